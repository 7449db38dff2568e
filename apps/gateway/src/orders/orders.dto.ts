// Request bodies of the trading endpoints. Validated by the global ValidationPipe (whitelist, unknown
// properties refused); the OpenAPI document is generated from these classes.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, ValidateNested } from 'class-validator';

export const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
export const SIGNATURE_RE = /^0x[0-9a-fA-F]{130}$/;
export const UINT64_RE = /^(0|[1-9][0-9]{0,19})$/;
export const DECIMAL_RE = /^(0|[1-9][0-9]{0,19})(\.[0-9]{1,18})?$/;
export const SYMBOL_RE = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$/;
export const CLIENT_ID_RE = /^[A-Za-z0-9_-]{1,36}$/;

export class PlaceOrderDto {
  @ApiProperty({ example: 'M1-USDC', description: 'Market symbol (GET /v1/markets).' })
  @IsString()
  @Matches(SYMBOL_RE, { message: 'market must be a market symbol' })
  market!: string;

  @ApiProperty({ enum: ['buy', 'sell'] })
  @IsIn(['buy', 'sell'])
  side!: 'buy' | 'sell';

  @ApiProperty({ enum: ['limit', 'market'] })
  @IsIn(['limit', 'market'])
  type!: 'limit' | 'market';

  @ApiProperty({ example: '1500.25', description: 'Limit price; for a market order the protection price (worst price it may trade at). A multiple of the tick size.' })
  @IsString()
  @Matches(DECIMAL_RE, { message: 'price must be a decimal string' })
  price!: string;

  @ApiProperty({ example: '0.5', description: 'Size in base units of the market, a multiple of the lot size.' })
  @IsString()
  @Matches(DECIMAL_RE, { message: 'amount must be a decimal string' })
  amount!: string;

  @ApiPropertyOptional({ enum: ['GTC', 'IOC', 'FOK'], default: 'GTC', description: 'GTC rests until the signed expiry. Market orders: IOC or FOK.' })
  @IsOptional()
  @IsIn(['GTC', 'IOC', 'FOK'])
  timeInForce?: 'GTC' | 'IOC' | 'FOK';

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @IsBoolean()
  postOnly?: boolean;

  @ApiPropertyOptional({ example: 'bot-42-0001', description: 'Caller-chosen id (1..36 of [A-Za-z0-9_-]); a second order with the same id is refused.' })
  @IsOptional()
  @IsString()
  @Matches(CLIENT_ID_RE, { message: 'clientOrderId must be 1..36 characters of [A-Za-z0-9_-]' })
  clientOrderId?: string;

  @ApiProperty({ example: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', description: 'The signing wallet.' })
  @IsString()
  @Matches(ADDRESS_RE, { message: 'trader must be a 20-byte 0x address' })
  trader!: string;

  @ApiProperty({ example: '1', description: 'uint64 decimal string; one order per (trader, nonce), ever.' })
  @IsString()
  @Matches(UINT64_RE, { message: 'nonce must be a uint64 decimal string' })
  nonce!: string;

  @ApiProperty({ example: '1767225600', description: 'Unix seconds (uint64 decimal string) after which the order cannot settle; a resting order is removed then.' })
  @IsString()
  @Matches(UINT64_RE, { message: 'expiry must be a uint64 decimal string' })
  expiry!: string;

  @ApiProperty({ example: 2000, description: 'Most fee the trader accepts, millionths of the quote amount (0..100000).' })
  @IsInt()
  @Min(0)
  @Max(100_000)
  maxFeeRate!: number;

  @ApiProperty({ description: "65-byte EIP-712 signature of the settlement contract's Order (see the SDK)." })
  @IsString()
  @Matches(SIGNATURE_RE, { message: 'signature must be 65 bytes of 0x hex' })
  signature!: string;
}

export class BatchPlaceDto {
  @ApiProperty({ type: [PlaceOrderDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1_000)
  @ValidateNested({ each: true })
  @Type(() => PlaceOrderDto)
  orders!: PlaceOrderDto[];
}

class SignedRequest {
  @ApiProperty({ example: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' })
  @IsString()
  @Matches(ADDRESS_RE, { message: 'trader must be a 20-byte 0x address' })
  trader!: string;

  @ApiProperty({ description: 'Unix seconds (uint64 decimal string); at most GATEWAY_MAX_AUTH_SECONDS ahead.' })
  @IsString()
  @Matches(UINT64_RE, { message: 'expiry must be a uint64 decimal string' })
  expiry!: string;

  @ApiProperty({ description: 'uint64 decimal string; a (trader, nonce) is accepted once.' })
  @IsString()
  @Matches(UINT64_RE, { message: 'nonce must be a uint64 decimal string' })
  nonce!: string;

  @ApiProperty({ description: '65-byte EIP-712 signature (SDK: signCancel / signCancelAll).' })
  @IsString()
  @Matches(SIGNATURE_RE, { message: 'signature must be 65 bytes of 0x hex' })
  signature!: string;
}

export class CancelOrderDto extends SignedRequest {
  @ApiProperty({ example: 'M1-USDC' })
  @IsString()
  @Matches(SYMBOL_RE, { message: 'market must be a market symbol' })
  market!: string;

  @ApiPropertyOptional({ description: 'Engine order id (decimal string); give this or clientOrderId.' })
  @IsOptional()
  @IsString()
  @Matches(UINT64_RE, { message: 'orderId must be a decimal string' })
  orderId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(CLIENT_ID_RE, { message: 'clientOrderId must be 1..36 characters of [A-Za-z0-9_-]' })
  clientOrderId?: string;
}

export class BatchCancelDto {
  @ApiProperty({ type: [CancelOrderDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1_000)
  @ValidateNested({ each: true })
  @Type(() => CancelOrderDto)
  cancels!: CancelOrderDto[];
}

export class CancelAllDto extends SignedRequest {
  @ApiPropertyOptional({ description: 'Market symbol; absent = every market.' })
  @IsOptional()
  @IsString()
  @Matches(SYMBOL_RE, { message: 'market must be a market symbol' })
  market?: string;
}

export class AmendOrderDto {
  @ApiProperty({ type: CancelOrderDto, description: 'The signed Cancel of the order being replaced.' })
  @ValidateNested()
  @Type(() => CancelOrderDto)
  cancel!: CancelOrderDto;

  @ApiProperty({ type: PlaceOrderDto, description: 'The new signed order (same trader and market; its own nonce).' })
  @ValidateNested()
  @Type(() => PlaceOrderDto)
  order!: PlaceOrderDto;
}
