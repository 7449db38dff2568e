// The signed-in trader's balances and holds, deposits and withdrawals, from the projector's read model. Only the
// Login's own trader is read (there is no account parameter to point at someone else); without a read model
// the endpoints answer UNAVAILABLE.
import { Controller, Get, Headers, Inject } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiError } from '../errors/api.errors.js';
import { OrdersService, type Session } from '../orders/orders.service.js';
import { intParam, ValidQuery, type QueryValues } from '../query/query-params.js';
import { ACCOUNT_READ_MODEL, type AccountReadModel } from './account-read-model.js';

const AUTH_HEADERS = [
  { name: 'x-parallax-trader', description: 'The wallet address' },
  { name: 'x-parallax-expiry', description: 'Unix seconds the Login signature expires' },
  { name: 'x-parallax-nonce', description: 'Login nonce' },
  { name: 'x-parallax-signature', description: 'EIP-712 Login(trader, expiry, nonce) signature (SDK: signLogin)' },
] as const;
const MAX_TRANSFERS = 500;
const TRANSFERS_QUERY = { limit: intParam(1, MAX_TRANSFERS, MAX_TRANSFERS) };

function header(h: Record<string, unknown>, name: string): string {
  const v = h[name];
  if (typeof v !== 'string') throw new ApiError('NOT_LOGGED_IN', `${name} header required (a signed Login)`);
  return v;
}

@ApiTags('account')
@ApiHeader(AUTH_HEADERS[0])
@ApiHeader(AUTH_HEADERS[1])
@ApiHeader(AUTH_HEADERS[2])
@ApiHeader(AUTH_HEADERS[3])
@Controller('v1/account')
export class AccountController {
  constructor(
    private readonly orders: OrdersService,
    @Inject(ACCOUNT_READ_MODEL) private readonly readModel: AccountReadModel | null,
  ) {}

  @Get('balances')
  @ApiOperation({
    summary: "The trader's balances and holds per token (base units as decimal strings)",
    description:
      'onchain: the contract balance as the risk ledger knows it; available; heldOrders; heldWithdrawals; withdrawalShortfall (a withdrawal request not yet reserved: ' +
      'open orders holding it are being cancelled); unsettledIn/Out; feesOwed; deficit (what fills the contract skipped took back beyond the free funds: owed, paid first by ' +
      'the next receipts; while non-zero the open orders in the token are cancelled and no new order is accepted). ' +
      'available + heldOrders + heldWithdrawals = onchain + unsettledIn - unsettledOut - feesOwed + deficit. Eventually consistent: asOf names the risk-journal entry each row reflects.',
  })
  async balances(@Headers() h: Record<string, unknown>, @ValidQuery({}) _q: unknown): Promise<unknown> {
    const session = this.session(h);
    const rows = await this.model().balances(session.trader);
    return {
      trader: session.trader,
      balances: rows.map((r) => ({
        token: r.token,
        onchain: r.onchain.toString(),
        available: r.available.toString(),
        heldOrders: r.heldOrders.toString(),
        heldWithdrawals: r.heldWithdrawals.toString(),
        withdrawalShortfall: r.withdrawalShortfall.toString(),
        unsettledIn: r.unsettledIn.toString(),
        unsettledOut: r.unsettledOut.toString(),
        feesOwed: r.feesOwed.toString(),
        deficit: r.deficit.toString(),
        asOf: { shard: r.shard, journalOffset: r.journalOffset, journalEntry: r.journalSeq },
      })),
    };
  }

  @Get('transfers')
  @ApiOperation({ summary: "The trader's deposits and withdrawals (requested, cancelled, executed), oldest first; refused names the risk engine's code when the ledger refused the event" })
  @ApiQuery({ name: 'limit', required: false, description: `1..${MAX_TRANSFERS}, default ${MAX_TRANSFERS}` })
  async transfers(@Headers() h: Record<string, unknown>, @ValidQuery(TRANSFERS_QUERY) { limit }: QueryValues<typeof TRANSFERS_QUERY>): Promise<unknown> {
    const session = this.session(h);
    const rows = await this.model().transfers(session.trader, limit);
    return {
      trader: session.trader,
      transfers: rows.map((t) => ({
        kind: t.kind,
        token: t.token,
        amount: t.amount.toString(),
        refused: t.refused,
        loggedAt: t.loggedAt.toISOString(),
        id: `${t.shard}-${t.inputOffset}-${t.eventIndex}`,
        asOf: { shard: t.shard, journalOffset: t.journalOffset },
      })),
    };
  }

  private session(h: Record<string, unknown>): Session {
    return this.orders.login(header(h, 'x-parallax-trader'), header(h, 'x-parallax-expiry'), header(h, 'x-parallax-nonce'), header(h, 'x-parallax-signature'));
  }

  private model(): AccountReadModel {
    if (this.readModel === null) throw new ApiError('UNAVAILABLE', 'balances and transfers are not served by this gateway (no read model configured)');
    return this.readModel;
  }
}
