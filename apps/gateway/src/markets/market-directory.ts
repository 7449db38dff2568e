// The catalogue as the API sees it: markets by symbol with their decimal units and settlement config.
import { Inject, Injectable } from '@nestjs/common';
import type { SettlementMarket } from '@parallax/chain';
import type { MarketDefinition } from '@parallax/contracts';
import { MarketUnits } from '@parallax/order-book';
import { ApiError } from '../errors/api.errors.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway.context.js';

export interface ApiMarket {
  readonly def: MarketDefinition;
  readonly units: MarketUnits;
  readonly settlement: SettlementMarket;
}

@Injectable()
export class MarketDirectory {
  private readonly bySymbol = new Map<string, ApiMarket>();
  private readonly byId = new Map<number, ApiMarket>();

  constructor(@Inject(GATEWAY_CONTEXT) ctx: GatewayContext) {
    const settlement = new Map(ctx.settlementMarkets.map((m) => [m.marketId, m]));
    for (const def of ctx.catalogue.all()) {
      const s = settlement.get(def.marketId);
      // A market without settlement config cannot take signed orders: it is not offered.
      if (s === undefined) continue;
      const m: ApiMarket = { def, units: new MarketUnits(def.tickSize, def.lotSize), settlement: s };
      this.bySymbol.set(def.symbol, m);
      this.byId.set(def.marketId, m);
    }
  }

  all(): ApiMarket[] {
    return [...this.byId.values()];
  }

  /** Throws UNKNOWN_MARKET. */
  get(symbol: string): ApiMarket {
    const m = this.bySymbol.get(symbol);
    if (m === undefined) throw new ApiError('UNKNOWN_MARKET', `market: no market ${JSON.stringify(symbol.slice(0, 40))}`);
    return m;
  }

  byMarketId(marketId: number): ApiMarket | undefined {
    return this.byId.get(marketId);
  }
}
