// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title ParallaxSettlement
/// @notice Vault and batch settlement for the Parallax exchange.
///
/// Traders deposit ERC-20 tokens into internal balances. The off-chain engine matches orders that traders
/// signed (EIP-712) and the operator settles the resulting fills here in batches with sequential ids.
/// The operator can only move balances as the signed orders allow: every fill is checked against the
/// signatures, the signed limit price, the signed size (tracked across batches), the signed expiry and the
/// signed maximum fee rate. An order is signed by its trader or by a trading key the trader authorized on
/// chain (with an expiry, revocable). Withdrawals are requested on-chain and become executable by anyone after
/// `withdrawalDelay` without the operator (the escape hatch); the operator may execute them earlier. Traders
/// cancel orders on chain (one by hash, or every nonce below a floor), effective after `cancelDelay`, so no
/// signed order outlives its trader's will by more than that window. A fill whose trader lacks the funds is
/// skipped and reported (FillsSkipped), never reverting the batch; every other violation reverts it.
///
/// Amounts are token base units. A price is the quote amount, in quote base units, for PRICE_SCALE (1e18)
/// base units of the base token: quote = base * price / 1e18, and a fill whose quote amount is not an exact
/// integer reverts (so rounding can never be used to shave value off one side). Fees are charged in the
/// quote token at a rate in millionths of the quote amount, rounded down (in the trader's favour).
///
/// Maker rebates: each side of a fill carries a signed int32 rate. A non-negative rate is a fee, at most the
/// order's signed maxFeeRate and MAX_FEE_RATE: fee = floor(quote * rate / 1e6). A negative rate is a rebate
/// paid to that side: rebate = floor(quote * -rate / 1e6), rounded down (dust stays with the fee recipient).
/// At most one side of a fill may carry a rebate (RebateOnBothSides) and the rebate is paid out of the same
/// fill's other-side fee: rebate <= that fee, else the batch reverts (RebateExceedsFee). So a rebate never
/// costs a trader anything it did not sign, and the fee recipient's take of every fill, fee - rebate, is never
/// negative. The same rounding is libs/chain fees.ts (feeAmount, rebateAmount), which the risk engine uses.
///
/// The batch calldata is a packed byte string (the layout is documented in libs/chain/README.md): each
/// order appears once per batch, sorted by hash, fills reference orders by index, and each order's
/// signature is checked once per batch, in every batch that fills it (so a revoked key stops its orders).
contract ParallaxSettlement {
    // ------------------------------------------------------------------------------------------ constants

    uint256 public constant PRICE_SCALE = 1e18;
    uint256 public constant FEE_RATE_SCALE = 1_000_000;
    /// @notice Hard cap on any fee rate (10%), whatever an order signed.
    uint256 public constant MAX_FEE_RATE = 100_000;
    /// @notice The withdrawal delay is immutable and bounded, so funds cannot be locked for long.
    uint256 public constant MAX_WITHDRAWAL_DELAY = 30 days;
    /// @notice A withdrawal delay of at least this long gives the operator time to settle fills matched
    /// before a request (a zero delay would let a trader void matched fills by withdrawing first).
    uint256 public constant MIN_WITHDRAWAL_DELAY = 1 hours;
    /// @notice Bounds of the on-chain cancel (and key revocation) latency: long enough for the operator to
    /// settle what it matched before the cancel, short enough that a signed order is never a long free option.
    uint256 public constant MIN_CANCEL_DELAY = 1 minutes;
    uint256 public constant MAX_CANCEL_DELAY = 1 hours;
    /// @notice Delay between proposing a new operator and the change taking effect: traders see it coming
    /// and can cancel their orders and withdraw before a key they do not trust can settle anything.
    uint256 public constant OPERATOR_CHANGE_DELAY = 2 days;
    uint8 public constant BATCH_VERSION = 1;

    bytes32 public constant ORDER_TYPEHASH = keccak256(
        "Order(address trader,address baseToken,address quoteToken,bool isBuy,uint128 price,uint128 size,uint32 maxFeeRate,uint64 expiry,uint64 nonce)"
    );
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    string private constant DOMAIN_NAME = "Parallax Settlement";
    string private constant DOMAIN_VERSION = "1";

    /// @dev secp256k1n / 2: higher s values are the malleable twin of a valid signature.
    uint256 private constant HALF_CURVE_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    // Packed batch layout (bytes).
    uint256 private constant HEADER_BYTES = 6; // version u8, tokenCount u8, orderCount u16, fillCount u16
    uint256 private constant TOKEN_BYTES = 20;
    uint256 private constant ORDER_BYTES = 140;
    /// @dev One fill, byte offsets within its 44 bytes (big-endian):
    ///   0 u16 buyIdx | 2 u16 sellIdx | 4 u128 baseAmount | 20 u128 price | 36 int32 buyRate | 40 int32 sellRate
    /// A rate is signed: >= 0 a fee rate, < 0 a rebate rate (see the contract NatSpec).
    uint256 private constant FILL_BYTES = 44;
    /// @dev One FillsSettled entry, byte offsets: 0 buyer 20 | 20 seller 20 | 40 baseIdx 1 | 41 quoteIdx 1 |
    /// 42 u128 baseAmount | 58 u128 quoteAmount | 74 int128 buyFee | 90 int128 sellFee (106 bytes). A fee is
    /// signed: negative is a rebate paid to that side.
    uint256 private constant SETTLED_FILL_BYTES = 106;

    // In-memory order record: RECORD_WORDS words per order, see _loadOrders.
    uint256 private constant RECORD_WORDS = 7;

    // ------------------------------------------------------------------------------------------ state

    uint256 public immutable withdrawalDelay;
    /// @notice Seconds from an on-chain cancel (or key revocation) to its taking effect.
    uint256 public immutable cancelDelay;
    uint256 private immutable _cachedChainId;
    bytes32 private immutable _cachedDomainSeparator;

    address public owner;
    address public pendingOwner;
    address public operator;
    /// @notice The proposed next operator and when proposeOperator's delay lets it take over (0: none).
    address public pendingOperator;
    uint256 public pendingOperatorAt;
    address public feeRecipient;
    /// @notice The id of the last settled batch; the next batch must carry lastBatchId + 1.
    uint64 public lastBatchId;

    mapping(address token => mapping(address trader => uint256)) private _balances;
    /// @notice Base amount filled so far of an open, partially filled order (by EIP-712 order hash).
    /// Zero for untouched orders and for completed ones (whose nonce is then marked used).
    mapping(bytes32 orderHash => uint256) public filledAmount;
    /// @dev trader => nonce / 128 => two bits per nonce, at bit 2 * (nonce % 128):
    ///   bit 0 "used": an order of the trader with this nonce was completely filled (every order with the
    ///         nonce is dead). Never cleared.
    ///   bit 1 "partial": an order with this nonce may have a filledAmount record. Set whenever a partial
    ///         fill is stored; cleared only together with setting "used". So an order whose nonce is
    ///         neither used nor partial has no record, and settlement skips reading filledAmount (a cold
    ///         2.1k read) for it. When the bit is set the record is read by order hash, so two different
    ///         orders sharing a nonce keep separate records, as before.
    mapping(address trader => mapping(uint256 word => uint256)) private _nonceStates;
    mapping(address trader => mapping(address token => Withdrawal)) private _withdrawals;
    /// @notice Tokens that may be deposited (owner-managed). Delisting stops deposits only: balances of a
    /// delisted token still settle and withdraw.
    mapping(address token => bool) public isTokenListed;
    /// @notice Unix time until which (inclusive) `key` may sign orders for `trader`; 0 = never authorized.
    mapping(address trader => mapping(address key => uint256)) public tradingKeyExpiry;
    /// @notice When a cancel of the trader's order (by EIP-712 order hash) takes effect; 0 = not cancelled.
    mapping(address trader => mapping(bytes32 orderHash => uint256)) public orderCancelledAt;
    /// @dev trader => packed cancel state, read once per trader per batch:
    ///   bits   0..63  nonce floor: orders with a lower nonce are dead from `floorAt` on
    ///   bits  64..127 floorAt: when the floor takes effect
    ///   bits 128..191 previous floor: in effect until floorAt
    ///   bit  192      "has order cancels": orderCancelledAt is read only for traders who ever cancelled one
    mapping(address trader => uint256) private _cancelStates;

    bool private transient _locked;

    struct Withdrawal {
        uint256 amount;
        uint256 availableAt;
    }

    /// @notice The signed order (EIP-712 type "Order"); used by the hashOrder view.
    struct Order {
        address trader;
        address baseToken;
        address quoteToken;
        bool isBuy;
        uint128 price;
        uint128 size;
        uint32 maxFeeRate;
        uint64 expiry;
        uint64 nonce;
    }

    // ------------------------------------------------------------------------------------------ events

    event Deposited(address indexed trader, address indexed token, address from, uint256 amount, uint256 balance);
    event WithdrawalRequested(address indexed trader, address indexed token, uint256 amount, uint256 availableAt);
    event WithdrawalCancelled(address indexed trader, address indexed token, uint256 amount);
    event WithdrawalExecuted(address indexed trader, address indexed token, uint256 amount, uint256 balance);
    /// @notice Emitted once per batch: for every order filled in it, in order-hash order, 48 bytes
    /// `bytes32 orderHash | uint128 filledTotal` (big-endian, packed), where filledTotal is the order's
    /// cumulative filled base amount after the batch (idempotent for consumers: apply it as a value, not a
    /// delta). One log instead of one LOG3 per order saves ~1.6k gas per order.
    event OrdersFilled(uint64 indexed batchId, bytes fills);
    event FeesCollected(uint64 indexed batchId, address indexed token, address recipient, uint256 amount);
    event BatchSettled(uint64 indexed batchId, uint256 orderCount, uint256 fillCount);
    /// @notice Emitted once per batch with every fill it applied, in fill order: `tokens` is the batch's token
    /// table and each 106-byte entry of `fills` is `address buyer | address seller | uint8 baseIdx |
    /// uint8 quoteIdx | uint128 baseAmount | uint128 quoteAmount | int128 buyFee | int128 sellFee` (packed,
    /// big-endian, the fees two's complement). The buyer paid quoteAmount + buyFee and received baseAmount; the
    /// seller delivered baseAmount and received quoteAmount - sellFee. A negative fee is a rebate: that side
    /// was paid it. buyFee + sellFee (never negative) went to the fee recipient: per token and batch, the sum
    /// over the entries is FeesCollected's amount. With Deposited and WithdrawalExecuted, an indexer rebuilds
    /// every balance from events alone.
    event FillsSettled(uint64 indexed batchId, address[] tokens, bytes fills);
    /// @notice Fills left out of a batch because a trader lacked the funds (by fill index in the batch). Their
    /// orders are untouched: nothing of them was recorded as filled.
    event FillsSkipped(uint64 indexed batchId, uint256[] fillIndexes);
    event OrderCancelled(address indexed trader, bytes32 indexed orderHash, uint256 effectiveAt);
    event NoncesCancelled(address indexed trader, uint64 nonceFloor, uint256 effectiveAt);
    event TradingKeyAuthorized(address indexed trader, address indexed key, uint256 expiry);
    event TradingKeyRevoked(address indexed trader, address indexed key, uint256 validUntil);
    event TokenListed(address indexed token, bool listed);
    event OperatorChangeProposed(address indexed currentOperator, address indexed proposedOperator, uint256 effectiveAt);
    event OperatorChangeCancelled(address indexed proposedOperator);
    event OperatorChanged(address indexed previousOperator, address indexed newOperator);
    event FeeRecipientChanged(address indexed previousRecipient, address indexed newRecipient);
    event OwnershipTransferStarted(address indexed currentOwner, address indexed pendingOwner);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    // ------------------------------------------------------------------------------------------ errors

    error NotOwner(address caller);
    error NotPendingOwner(address caller);
    error NotOperator(address caller);
    error ZeroAddress();
    error InvalidWithdrawalDelay(uint256 delay);
    error InvalidCancelDelay(uint256 delay);
    error TokenNotListed(address token);
    error NoPendingOperator();
    error OperatorChangeNotReady(uint256 effectiveAt);
    error NonceFloorNotRaised(uint64 current, uint64 requested);
    error InvalidKeyExpiry(uint256 expiry);
    error KeyNotAuthorized(address trader, address key);
    error CancelledOrder(uint256 orderIndex);
    error Reentrancy();
    error ZeroAmount();
    error TokenTransferFailed(address token);
    error InsufficientBalance(address trader, address token, uint256 balance, uint256 required);
    error NoPendingWithdrawal(address trader, address token);
    error WithdrawalNotReady(address trader, address token, uint256 availableAt);
    error BatchAlreadySettled(uint64 batchId, uint64 lastBatchId);
    error BatchOutOfOrder(uint64 expectedBatchId, uint64 batchId);
    error UnsupportedBatchVersion(uint8 version);
    error EmptyBatch();
    error MalformedBatch(uint256 expectedLength, uint256 length);
    error DuplicateToken(uint256 tokenIndex);
    error InvalidTokenIndex(uint256 orderIndex);
    error InvalidOrderFlags(uint256 orderIndex);
    error OrderExpired(uint256 orderIndex, uint64 expiry);
    error UnsortedOrders(uint256 orderIndex);
    error OrderNonceUsed(uint256 orderIndex);
    error InvalidSignature(uint256 orderIndex);
    error InvalidOrderIndex(uint256 fillIndex);
    error SideMismatch(uint256 fillIndex);
    error MarketMismatch(uint256 fillIndex);
    error ZeroFill(uint256 fillIndex);
    error PriceLimitExceeded(uint256 fillIndex, uint256 orderIndex);
    error InexactQuoteAmount(uint256 fillIndex);
    error FeeRateExceeded(uint256 fillIndex, uint256 orderIndex);
    /// @notice The rebate of the fill's side of `orderIndex` exceeds the fee the other side pays in that fill.
    error RebateExceedsFee(uint256 fillIndex, uint256 orderIndex, uint256 rebate, uint256 fee);
    /// @notice Both sides of the fill carry a negative (rebate) rate.
    error RebateOnBothSides(uint256 fillIndex);
    error Overfill(uint256 fillIndex, uint256 orderIndex);

    // ------------------------------------------------------------------------------------------ setup

    /// @param withdrawalDelay_ MIN_WITHDRAWAL_DELAY..MAX_WITHDRAWAL_DELAY seconds, immutable.
    /// @param cancelDelay_ MIN_CANCEL_DELAY..MAX_CANCEL_DELAY seconds and at most the withdrawal delay, immutable
    /// (so a trader can always kill every order before a withdrawal it requested becomes executable).
    constructor(
        address owner_,
        address operator_,
        address feeRecipient_,
        uint256 withdrawalDelay_,
        uint256 cancelDelay_
    ) {
        if (owner_ == address(0) || operator_ == address(0) || feeRecipient_ == address(0)) revert ZeroAddress();
        if (withdrawalDelay_ < MIN_WITHDRAWAL_DELAY || withdrawalDelay_ > MAX_WITHDRAWAL_DELAY) {
            revert InvalidWithdrawalDelay(withdrawalDelay_);
        }
        if (cancelDelay_ < MIN_CANCEL_DELAY || cancelDelay_ > MAX_CANCEL_DELAY || cancelDelay_ > withdrawalDelay_) {
            revert InvalidCancelDelay(cancelDelay_);
        }
        owner = owner_;
        operator = operator_;
        feeRecipient = feeRecipient_;
        withdrawalDelay = withdrawalDelay_;
        cancelDelay = cancelDelay_;
        _cachedChainId = block.chainid;
        _cachedDomainSeparator = _buildDomainSeparator();
        emit OwnershipTransferred(address(0), owner_);
        emit OperatorChanged(address(0), operator_);
        emit FeeRecipientChanged(address(0), feeRecipient_);
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    /// @dev Token calls can re-enter (hooks, malicious tokens); deposit and withdrawal are guarded.
    modifier nonReentrant() {
        if (_locked) revert Reentrancy();
        _locked = true;
        _;
        _locked = false;
    }

    /// @notice Owner only: proposes a new operator, which can take over after OPERATOR_CHANGE_DELAY
    /// (executeOperatorChange). Replaces any earlier proposal and restarts the delay. Can never change the
    /// operator at once: traders get the delay to cancel their orders and withdraw.
    function proposeOperator(address newOperator) external onlyOwner {
        if (newOperator == address(0)) revert ZeroAddress();
        uint256 effectiveAt = block.timestamp + OPERATOR_CHANGE_DELAY;
        pendingOperator = newOperator;
        pendingOperatorAt = effectiveAt;
        emit OperatorChangeProposed(operator, newOperator, effectiveAt);
    }

    /// @notice Owner only: drops the pending operator proposal.
    function cancelOperatorChange() external onlyOwner {
        address proposed = pendingOperator;
        if (proposed == address(0)) revert NoPendingOperator();
        pendingOperator = address(0);
        pendingOperatorAt = 0;
        emit OperatorChangeCancelled(proposed);
    }

    /// @notice Owner only: makes the proposed operator the operator once its delay has passed. Can never
    /// install an operator that was not proposed at least OPERATOR_CHANGE_DELAY earlier.
    function executeOperatorChange() external onlyOwner {
        address proposed = pendingOperator;
        if (proposed == address(0)) revert NoPendingOperator();
        uint256 effectiveAt = pendingOperatorAt;
        if (block.timestamp < effectiveAt) revert OperatorChangeNotReady(effectiveAt);
        emit OperatorChanged(operator, proposed);
        operator = proposed;
        pendingOperator = address(0);
        pendingOperatorAt = 0;
    }

    /// @notice Owner only: where fees are credited (an internal balance). Cannot raise any fee: rates are
    /// bounded by what each order signed and MAX_FEE_RATE.
    function setFeeRecipient(address newRecipient) external onlyOwner {
        if (newRecipient == address(0)) revert ZeroAddress();
        emit FeeRecipientChanged(feeRecipient, newRecipient);
        feeRecipient = newRecipient;
    }

    /// @notice Owner only: lists or delists a token for deposits. Delisting never blocks settlement or
    /// withdrawal of balances already held, so it cannot trap funds.
    function setTokenListed(address token, bool listed) external onlyOwner {
        if (token == address(0)) revert ZeroAddress();
        isTokenListed[token] = listed;
        emit TokenListed(token, listed);
    }

    /// @notice Owner only: starts a two-step ownership transfer (the new owner must accept).
    function transferOwnership(address newOwner) external onlyOwner {
        pendingOwner = newOwner;
        emit OwnershipTransferStarted(msg.sender, newOwner);
    }

    /// @notice Only the pending owner: completes the ownership transfer.
    function acceptOwnership() external {
        if (msg.sender != pendingOwner) revert NotPendingOwner(msg.sender);
        emit OwnershipTransferred(owner, msg.sender);
        owner = msg.sender;
        pendingOwner = address(0);
    }

    // ------------------------------------------------------------------------------------------ vault

    /// @notice Anyone: deposits `amount` of a listed `token` from the caller into the caller's trading balance.
    function deposit(address token, uint256 amount) external {
        depositFor(msg.sender, token, amount);
    }

    /// @notice Deposits from the caller into `trader`'s balance (funding desks, sub-accounts, bridges).
    /// Credits the amount actually received (fee-on-transfer tokens credit less than `amount`). Anyone; the
    /// token must be listed.
    function depositFor(address trader, address token, uint256 amount) public nonReentrant {
        if (trader == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        if (!isTokenListed[token]) revert TokenNotListed(token);
        uint256 before = _tokenBalance(token);
        _callToken(token, abi.encodeWithSelector(0x23b872dd, msg.sender, address(this), amount)); // transferFrom
        uint256 afterwards = _tokenBalance(token);
        if (afterwards <= before) revert TokenTransferFailed(token);
        uint256 received = afterwards - before;
        uint256 balance = _balances[token][trader] + received;
        _balances[token][trader] = balance;
        emit Deposited(trader, token, msg.sender, received, balance);
    }

    /// @notice The trader: starts a withdrawal of `amount` (replacing any pending request for the token, which restarts
    /// the delay). The funds stay in the trading balance until executed, so fills matched before the request
    /// can still settle during the delay.
    function requestWithdrawal(address token, uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        uint256 balance = _balances[token][msg.sender];
        if (balance < amount) revert InsufficientBalance(msg.sender, token, balance, amount);
        uint256 availableAt = block.timestamp + withdrawalDelay;
        _withdrawals[msg.sender][token] = Withdrawal(amount, availableAt);
        emit WithdrawalRequested(msg.sender, token, amount, availableAt);
    }

    /// @notice The trader: drops its pending withdrawal request for `token`.
    function cancelWithdrawal(address token) external {
        uint256 amount = _withdrawals[msg.sender][token].amount;
        if (amount == 0) revert NoPendingWithdrawal(msg.sender, token);
        delete _withdrawals[msg.sender][token];
        emit WithdrawalCancelled(msg.sender, token, amount);
    }

    /// @notice Pays a requested withdrawal to the trader: min(requested, balance), so fills settled during the
    /// delay can shrink it but never block it. The operator may do it at once (after settling the trader's
    /// matched fills); anyone may do it once the delay has passed, without the operator. Pays only the trader.
    function executeWithdrawal(address trader, address token) external nonReentrant {
        Withdrawal memory w = _withdrawals[trader][token];
        if (w.amount == 0) revert NoPendingWithdrawal(trader, token);
        if (msg.sender != operator && block.timestamp < w.availableAt) {
            revert WithdrawalNotReady(trader, token, w.availableAt);
        }
        uint256 balance = _balances[token][trader];
        uint256 paid = balance < w.amount ? balance : w.amount;
        unchecked {
            balance -= paid;
        }
        _balances[token][trader] = balance;
        delete _withdrawals[trader][token];
        // A zero transfer is skipped: some tokens revert on it, which would make the request unclearable.
        if (paid != 0) _callToken(token, abi.encodeWithSelector(0xa9059cbb, trader, paid)); // transfer
        emit WithdrawalExecuted(trader, token, paid, balance);
    }

    // ------------------------------------------------------------------------------------------ order control

    /// @notice The trader: cancels one of its orders by EIP-712 order hash, effective `cancelDelay` from now
    /// (fills settled before then stand; a batch settling it later reverts CancelledOrder). A repeated cancel
    /// never postpones an earlier one. Cannot touch another trader's orders: the cancel is keyed by caller.
    function cancelOrder(bytes32 orderHash) external {
        uint256 effectiveAt = orderCancelledAt[msg.sender][orderHash];
        if (effectiveAt == 0 || effectiveAt > block.timestamp + cancelDelay) {
            effectiveAt = block.timestamp + cancelDelay;
            orderCancelledAt[msg.sender][orderHash] = effectiveAt;
            _cancelStates[msg.sender] |= 1 << 192;
        }
        emit OrderCancelled(msg.sender, orderHash, effectiveAt);
    }

    /// @notice The trader: kills every order of its with a nonce below `floor`, effective `cancelDelay` from
    /// now. The floor only rises (NonceFloorNotRaised otherwise); until the new one takes effect the floor in
    /// force stays. Cannot touch another trader's orders.
    function cancelNoncesBelow(uint64 floor) external {
        uint256 state = _cancelStates[msg.sender];
        uint64 current = uint64(state);
        if (floor <= current) revert NonceFloorNotRaised(current, floor);
        uint256 effectiveAt = block.timestamp + cancelDelay;
        uint64 inForce = block.timestamp >= uint64(state >> 64) ? current : uint64(state >> 128);
        _cancelStates[msg.sender] =
            (state & (1 << 192)) | (uint256(inForce) << 128) | (effectiveAt << 64) | uint256(floor);
        emit NoncesCancelled(msg.sender, floor, effectiveAt);
    }

    /// @notice The nonce floor in force now for `trader` and the pending one (equal when none is pending).
    function nonceFloor(address trader) external view returns (uint64 inForce, uint64 pending, uint256 effectiveAt) {
        uint256 state = _cancelStates[trader];
        effectiveAt = uint64(state >> 64);
        pending = uint64(state);
        inForce = block.timestamp >= effectiveAt ? pending : uint64(state >> 128);
    }

    /// @notice The trader: lets `key` sign orders on its behalf until `expiry` (unix seconds, inclusive, in the
    /// future). Immediate; re-authorizing sets a new expiry. A key can never withdraw, cancel or authorize.
    function authorizeTradingKey(address key, uint256 expiry) external {
        if (key == address(0)) revert ZeroAddress();
        if (expiry <= block.timestamp || expiry > type(uint64).max) revert InvalidKeyExpiry(expiry);
        tradingKeyExpiry[msg.sender][key] = expiry;
        emit TradingKeyAuthorized(msg.sender, key, expiry);
    }

    /// @notice The trader: revokes `key`, effective `cancelDelay` from now (or at its expiry if sooner), the
    /// same latency as a cancel, so a revocation cannot void fills the operator already matched. From then on
    /// no order the key signed fills again, including orders already partially filled (every fill re-checks
    /// the signature and the key's expiry).
    function revokeTradingKey(address key) external {
        uint256 expiry = tradingKeyExpiry[msg.sender][key];
        if (expiry < block.timestamp) revert KeyNotAuthorized(msg.sender, key);
        uint256 validUntil = block.timestamp + cancelDelay;
        if (validUntil < expiry) {
            tradingKeyExpiry[msg.sender][key] = validUntil;
        } else {
            validUntil = expiry;
        }
        emit TradingKeyRevoked(msg.sender, key, validUntil);
    }

    // ------------------------------------------------------------------------------------------ settlement

    /// @notice Settles a batch of fills. Only the operator; `batchId` must be lastBatchId + 1. A fill whose
    /// buyer lacks quote + fee - rebate or whose seller lacks the base amount is skipped and named in FillsSkipped (its
    /// orders untouched); any other invalid fill or order reverts the whole batch with an error naming the fill
    /// or order index. Can never fill an order beyond its signed size, at a worse price than signed, with a
    /// higher fee rate than signed, with a rebate not covered by the same fill's other-side fee, after its expiry or effective cancel, or without its trader's or an
    /// authorized trading key's signature.
    function settleBatch(uint64 batchId, bytes calldata batch) external {
        if (msg.sender != operator) revert NotOperator(msg.sender);
        uint64 last = lastBatchId;
        if (batchId <= last) revert BatchAlreadySettled(batchId, last);
        unchecked {
            // last < batchId <= type(uint64).max, so last + 1 does not overflow.
            if (batchId != last + 1) revert BatchOutOfOrder(last + 1, batchId);
        }

        (uint256 tokenCount, uint256 orderCount, uint256 fillCount) = _readHeader(batch);
        (address[] memory tokens, uint256[] memory tokenSlots) = _readTokens(batch, tokenCount);
        uint256 ordersOffset = HEADER_BYTES + tokenCount * TOKEN_BYTES;
        uint256[] memory rec = _loadOrders(batch, ordersOffset, orderCount, tokenCount, tokens, tokenSlots);
        uint256[] memory fees = new uint256[](tokenCount);
        uint256[] memory skipped = new uint256[](fillCount);
        bytes memory settled = new bytes(fillCount * SETTLED_FILL_BYTES);
        _applyFills(batch, ordersOffset + orderCount * ORDER_BYTES, fillCount, orderCount, rec, fees, skipped, settled);
        _recordFills(rec, orderCount, batchId);
        if (settled.length != 0) emit FillsSettled(batchId, tokens, settled);
        if (skipped.length != 0) emit FillsSkipped(batchId, skipped);

        address recipient = feeRecipient;
        for (uint256 t; t < tokenCount; ++t) {
            uint256 fee = fees[t];
            if (fee != 0) {
                // Fees were debited from traders in this batch, so the sum of balances stays below supply.
                unchecked {
                    _balances[tokens[t]][recipient] += fee;
                }
                emit FeesCollected(batchId, tokens[t], recipient, fee);
            }
        }

        lastBatchId = batchId;
        emit BatchSettled(batchId, orderCount, fillCount);
    }

    function _readHeader(bytes calldata batch)
        private
        pure
        returns (uint256 tokenCount, uint256 orderCount, uint256 fillCount)
    {
        uint256 head = _word(batch, 0); // calldataload pads past the end with zeros
        uint8 version = uint8(head >> 248);
        if (version != BATCH_VERSION) revert UnsupportedBatchVersion(version);
        tokenCount = (head >> 240) & 0xff;
        orderCount = (head >> 224) & 0xffff;
        fillCount = (head >> 208) & 0xffff;
        if (fillCount == 0) revert EmptyBatch();
        uint256 expected = HEADER_BYTES + tokenCount * TOKEN_BYTES + orderCount * ORDER_BYTES + fillCount * FILL_BYTES;
        if (batch.length != expected) revert MalformedBatch(expected, batch.length);
    }

    /// @dev Token table: orders name tokens by index. Entries must be distinct, so equal indexes mean equal
    /// tokens. tokenSlots[t] is the storage slot of _balances[tokens[t]] (the inner mapping's base).
    function _readTokens(bytes calldata batch, uint256 tokenCount)
        private
        pure
        returns (address[] memory tokens, uint256[] memory tokenSlots)
    {
        tokens = new address[](tokenCount);
        tokenSlots = new uint256[](tokenCount);
        for (uint256 t; t < tokenCount; ++t) {
            address token = address(uint160(_word(batch, HEADER_BYTES + t * TOKEN_BYTES) >> 96));
            for (uint256 u; u < t; ++u) {
                if (tokens[u] == token) revert DuplicateToken(t);
            }
            tokens[t] = token;
            uint256 slot;
            assembly ("memory-safe") {
                mstore(0x00, token)
                mstore(0x20, _balances.slot)
                slot := keccak256(0x00, 0x40)
            }
            tokenSlots[t] = slot;
        }
    }

    /// @dev Checks every order once and builds its in-memory record (RECORD_WORDS words, raw memory):
    ///   0x00 order hash (EIP-712 digest)
    ///   0x20 balance slot of (trader, base token)      0x40 balance slot of (trader, quote token)
    ///   0x60 trader | baseIdx << 160 | quoteIdx << 168 | isBuy << 176 | maxFeeRate << 184
    ///        | (2 * (nonce % 128)) << 216 (the bit position of the nonce's state bits in its word)
    ///   0x80 price | size << 128
    ///   0xa0 filled (running) | filled before this batch << 128
    ///   0xc0 storage slot of the trader's nonce-state word for this nonce
    /// The loop is assembly because it runs for every order of every batch (the Solidity version spent
    /// ~1,000 EVM steps per order on stack shuffling and bounds checks). Failures leave the loop with an
    /// error code and _revertOrder raises the matching custom error. Check order: token indexes, flags,
    /// expiry, hash ordering, used nonce, effective cancel (nonce floor, then the order's own cancel when the
    /// trader ever cancelled one), signature by the trader or an unexpired trading key of the trader (in every
    /// batch, partial fill recorded or not: a key's revocation or expiry stops the orders it signed).
    /// filledAmount is read only when the nonce's partial bit is set (see _nonceStates).
    function _loadOrders(
        bytes calldata batch,
        uint256 offset,
        uint256 orderCount,
        uint256 tokenCount,
        address[] memory tokens,
        uint256[] memory tokenSlots
    ) private view returns (uint256[] memory rec) {
        rec = new uint256[](orderCount * RECORD_WORDS);
        bytes32 domainSeparator = _domainSeparator();
        bytes32 typeHash = ORDER_TYPEHASH;
        uint256 err;
        uint256 errIndex;
        uint256 errData;
        assembly ("memory-safe") {
            let scratch := mload(0x40) // 0x140 bytes of scratch past the free memory pointer
            let previousHash := 0
            let start := add(batch.offset, offset)
            let r := add(rec, 0x20)
            // Walk the calldata and record pointers instead of indexing both for every field.
            for { let p := start } lt(p, add(start, mul(orderCount, ORDER_BYTES))) {
                p := add(p, ORDER_BYTES)
                r := add(r, 0xe0)
            } {
                let i := div(sub(p, start), ORDER_BYTES)
                let trader := shr(96, calldataload(p))
                let meta := calldataload(add(p, 20))
                let baseIdx := shr(248, meta)
                let quoteIdx := and(shr(240, meta), 0xff)
                let flags := and(shr(232, meta), 0xff)
                if iszero(and(lt(baseIdx, tokenCount), lt(quoteIdx, tokenCount))) {
                    err := 1
                    errIndex := i
                    break
                }
                if gt(flags, 1) {
                    err := 2
                    errIndex := i
                    break
                }
                let expiry := shr(192, calldataload(add(p, 59)))
                if lt(expiry, timestamp()) {
                    err := 3
                    errIndex := i
                    errData := expiry
                    break
                }
                let nonce := shr(192, calldataload(add(p, 67)))

                mstore(scratch, typeHash)
                mstore(add(scratch, 0x20), trader)
                mstore(add(scratch, 0x40), mload(add(add(tokens, 0x20), shl(5, baseIdx))))
                mstore(add(scratch, 0x60), mload(add(add(tokens, 0x20), shl(5, quoteIdx))))
                mstore(add(scratch, 0x80), flags)
                mstore(add(scratch, 0xa0), shr(128, calldataload(add(p, 23)))) // price
                mstore(add(scratch, 0xc0), shr(128, calldataload(add(p, 39)))) // size
                mstore(add(scratch, 0xe0), shr(224, calldataload(add(p, 55)))) // maxFeeRate
                mstore(add(scratch, 0x100), expiry)
                mstore(add(scratch, 0x120), nonce)
                let structHash := keccak256(scratch, 0x140)
                mstore(scratch, 0x1901000000000000000000000000000000000000000000000000000000000000)
                mstore(add(scratch, 0x02), domainSeparator)
                mstore(add(scratch, 0x22), structHash)
                let orderHash := keccak256(scratch, 0x42)
                // Strictly increasing hashes rule out duplicates: fills of a second copy of an order would be
                // counted against a separate running total.
                if iszero(gt(orderHash, previousHash)) {
                    err := 4
                    errIndex := i
                    break
                }
                previousHash := orderHash

                mstore(0x00, trader)
                mstore(0x20, _nonceStates.slot)
                mstore(0x20, keccak256(0x00, 0x40))
                mstore(0x00, shr(7, nonce))
                let nonceSlot := keccak256(0x00, 0x40)
                let nonceBit := shl(1, and(nonce, 0x7f))
                let state := shr(nonceBit, sload(nonceSlot))
                if and(state, 1) {
                    err := 5
                    errIndex := i
                    break
                }

                // On-chain cancels: one (warm after the trader's first order) read of the trader's cancel state.
                mstore(0x00, trader)
                mstore(0x20, _cancelStates.slot)
                let cancels := sload(keccak256(0x00, 0x40))
                if cancels {
                    let floor := and(cancels, 0xffffffffffffffff)
                    if lt(timestamp(), and(shr(64, cancels), 0xffffffffffffffff)) {
                        floor := and(shr(128, cancels), 0xffffffffffffffff)
                    }
                    let cancelled := lt(nonce, floor)
                    if and(iszero(cancelled), and(shr(192, cancels), 1)) {
                        mstore(0x20, orderCancelledAt.slot)
                        mstore(0x20, keccak256(0x00, 0x40))
                        mstore(0x00, orderHash)
                        let at := sload(keccak256(0x00, 0x40))
                        cancelled := and(iszero(iszero(at)), iszero(lt(timestamp(), at)))
                    }
                    if cancelled {
                        err := 7
                        errIndex := i
                        break
                    }
                }

                // No partial bit: no order with this nonce has a record, so this one has filled nothing.
                let filled := 0
                if and(state, 2) {
                    mstore(0x00, orderHash)
                    mstore(0x20, filledAmount.slot)
                    filled := sload(keccak256(0x00, 0x40))
                }
                // Every fill, not only the first, re-checks the signature: an order signed by a trading key
                // stops filling once the key's revocation (or expiry) is in effect, partially filled or not.
                {
                    let s := calldataload(add(p, 107))
                    let v := byte(0, calldataload(add(p, 139)))
                    let valid := 0
                    if and(iszero(gt(s, HALF_CURVE_ORDER)), or(eq(v, 27), eq(v, 28))) {
                        mstore(scratch, orderHash)
                        mstore(add(scratch, 0x20), v)
                        mstore(add(scratch, 0x40), calldataload(add(p, 75))) // r
                        mstore(add(scratch, 0x60), s)
                        mstore(0x00, 0) // the precompile returns nothing for an invalid signature
                        if staticcall(gas(), 0x01, scratch, 0x80, 0x00, 0x20) {
                            let signer := mload(0x00)
                            if signer {
                                valid := eq(signer, trader)
                                // Not the trader: a trading key it authorized, valid while now <= its expiry.
                                if iszero(valid) {
                                    mstore(0x00, trader)
                                    mstore(0x20, tradingKeyExpiry.slot)
                                    mstore(0x20, keccak256(0x00, 0x40))
                                    mstore(0x00, signer)
                                    valid := iszero(lt(sload(keccak256(0x00, 0x40)), timestamp()))
                                }
                            }
                        }
                    }
                    if iszero(valid) {
                        err := 6
                        errIndex := i
                        break
                    }
                }

                mstore(r, orderHash)
                mstore(0x00, trader)
                mstore(0x20, mload(add(add(tokenSlots, 0x20), shl(5, baseIdx))))
                mstore(add(r, 0x20), keccak256(0x00, 0x40))
                mstore(0x20, mload(add(add(tokenSlots, 0x20), shl(5, quoteIdx))))
                mstore(add(r, 0x40), keccak256(0x00, 0x40))
                mstore(
                    add(r, 0x60),
                    or(
                        or(trader, or(shl(160, baseIdx), shl(168, quoteIdx))),
                        or(shl(176, flags), or(shl(184, mload(add(scratch, 0xe0))), shl(216, nonceBit)))
                    )
                )
                // price and size are still in the struct-hash scratch (the digest and ecrecover use 0x00-0x7f).
                mstore(add(r, 0x80), or(mload(add(scratch, 0xa0)), shl(128, mload(add(scratch, 0xc0)))))
                mstore(add(r, 0xa0), or(filled, shl(128, filled)))
                mstore(add(r, 0xc0), nonceSlot)
            }
        }
        if (err != 0) _revertOrder(err, errIndex, errData);
    }

    function _revertOrder(uint256 err, uint256 i, uint256 data) private pure {
        if (err == 1) revert InvalidTokenIndex(i);
        if (err == 2) revert InvalidOrderFlags(i);
        if (err == 3) revert OrderExpired(i, uint64(data));
        if (err == 4) revert UnsortedOrders(i);
        if (err == 5) revert OrderNonceUsed(i);
        if (err == 7) revert CancelledOrder(i);
        revert InvalidSignature(i);
    }

    /// @dev Applies every fill to the order records and the balances (assembly for the same reason as
    /// _loadOrders). Check order: order indexes, sides, market, zero amount, buy then sell price limit,
    /// exact quote, buy then sell fee rate (a negative rate, a rebate, passes this check), rebate on both
    /// sides, buy then sell overfill, buy then sell rebate above the other side's fee (all of which revert),
    /// then funds: a fill whose buyer lacks quote + buyFee - buyRebate or whose seller lacks the base amount
    /// (both read before any write) is skipped: its index goes to `skipped` and nothing of it is applied, so
    /// neither order counts it. Every applied fill appends its FillsSettled entry to `settled`. Both arrays are
    /// allocated at their maximum size and trimmed to what was written.
    /// Buyer pays quote + buyFee - buyRebate and receives base; seller delivers base and receives quote -
    /// sellFee + sellRebate; fees net of the rebate (buyFee + sellFee - buyRebate - sellRebate >= 0, as a
    /// rebate never exceeds the other side's fee and at most one side has one) accumulate per token in memory.
    /// Credits cannot overflow: each is matched by a debit of at least the same amount of the same token in
    /// the same fill (a seller's rebate by the buyer's fee, a buyer's rebate reduces its own debit), so no
    /// balance exceeds the tokens deposited. Products cannot overflow either: base and price are below 2^128
    /// and rate magnitudes at most 2^31.
    function _applyFills(
        bytes calldata batch,
        uint256 offset,
        uint256 fillCount,
        uint256 orderCount,
        uint256[] memory rec,
        uint256[] memory fees,
        uint256[] memory skipped,
        bytes memory settled
    ) private {
        uint256 err;
        uint256 errFill;
        uint256 errOrder;
        uint256 errRebate;
        uint256 errFee;
        assembly ("memory-safe") {
            let mask := 0xffffffffffffffffffffffffffffffff
            let start := add(batch.offset, offset)
            let skipCount := 0
            let out := add(settled, 0x20)
            for { let f := 0 } lt(f, fillCount) { f := add(f, 1) } {
                let q := add(start, mul(f, FILL_BYTES))
                let head := calldataload(q)
                let buyIdx := shr(240, head)
                let sellIdx := and(shr(224, head), 0xffff)
                errFill := f
                if iszero(and(lt(buyIdx, orderCount), lt(sellIdx, orderCount))) {
                    err := 1
                    break
                }
                let b := add(add(rec, 0x20), mul(buyIdx, 0xe0))
                let s := add(add(rec, 0x20), mul(sellIdx, 0xe0))
                let buyMeta := mload(add(b, 0x60))
                let sellMeta := mload(add(s, 0x60))
                if or(iszero(and(shr(176, buyMeta), 1)), and(shr(176, sellMeta), 1)) {
                    err := 2
                    break
                }
                if iszero(eq(and(shr(160, buyMeta), 0xffff), and(shr(160, sellMeta), 0xffff))) {
                    err := 3
                    break
                }
                let amount := and(shr(96, head), mask)
                if iszero(amount) {
                    err := 4
                    break
                }
                let price := shr(128, calldataload(add(q, 20)))
                let buyTerms := mload(add(b, 0x80))
                let sellTerms := mload(add(s, 0x80))
                if gt(price, and(buyTerms, mask)) {
                    err := 5
                    errOrder := buyIdx
                    break
                }
                if lt(price, and(sellTerms, mask)) {
                    err := 5
                    errOrder := sellIdx
                    break
                }
                let notional := mul(amount, price)
                if mod(notional, PRICE_SCALE) {
                    err := 6
                    break
                }
                let quote := div(notional, PRICE_SCALE)
                // Signed int32 rates: sign-extended to 256 bits; slt(rate, 0) is a rebate.
                let rates := calldataload(add(q, 36))
                let buyRate := signextend(3, shr(224, rates))
                let sellRate := signextend(3, and(shr(192, rates), 0xffffffff))
                let buyRebates := slt(buyRate, 0)
                let sellRebates := slt(sellRate, 0)
                if iszero(buyRebates) {
                    if or(gt(buyRate, and(shr(184, buyMeta), 0xffffffff)), gt(buyRate, MAX_FEE_RATE)) {
                        err := 7
                        errOrder := buyIdx
                        break
                    }
                }
                if iszero(sellRebates) {
                    if or(gt(sellRate, and(shr(184, sellMeta), 0xffffffff)), gt(sellRate, MAX_FEE_RATE)) {
                        err := 7
                        errOrder := sellIdx
                        break
                    }
                }
                if and(buyRebates, sellRebates) {
                    err := 10
                    break
                }

                let wb := mload(add(b, 0xa0))
                let totalBuy := add(and(wb, mask), amount)
                if gt(totalBuy, shr(128, buyTerms)) {
                    err := 8
                    errOrder := buyIdx
                    break
                }
                let ws := mload(add(s, 0xa0))
                let totalSell := add(and(ws, mask), amount)
                if gt(totalSell, shr(128, sellTerms)) {
                    err := 8
                    errOrder := sellIdx
                    break
                }

                // fee = floor(quote * rate / 1e6) for rate >= 0, rebate = floor(quote * -rate / 1e6) for
                // rate < 0 (a side has one or the other); a rebate is bounded by the other side's fee.
                let buyFee := 0
                let sellFee := 0
                let buyRebate := 0
                let sellRebate := 0
                switch buyRebates
                case 1 { buyRebate := div(mul(quote, sub(0, buyRate)), FEE_RATE_SCALE) }
                default { buyFee := div(mul(quote, buyRate), FEE_RATE_SCALE) }
                switch sellRebates
                case 1 { sellRebate := div(mul(quote, sub(0, sellRate)), FEE_RATE_SCALE) }
                default { sellFee := div(mul(quote, sellRate), FEE_RATE_SCALE) }
                if gt(buyRebate, sellFee) {
                    err := 9
                    errOrder := buyIdx
                    errRebate := buyRebate
                    errFee := sellFee
                    break
                }
                if gt(sellRebate, buyFee) {
                    err := 9
                    errOrder := sellIdx
                    errRebate := sellRebate
                    errFee := buyFee
                    break
                }
                let buyerQuote := mload(add(b, 0x40))
                let held := sload(buyerQuote)
                // buyRebate <= sellFee < quote: no underflow.
                let due := sub(add(quote, buyFee), buyRebate)
                let sellerBase := mload(add(s, 0x20))
                switch or(lt(held, due), lt(sload(sellerBase), amount))
                case 1 {
                    skipCount := add(skipCount, 1)
                    mstore(add(skipped, shl(5, skipCount)), f)
                }
                default {
                    mstore(add(b, 0xa0), or(and(wb, not(mask)), totalBuy))
                    mstore(add(s, 0xa0), or(and(ws, not(mask)), totalSell))
                    sstore(buyerQuote, sub(held, due))
                    let slot := mload(add(b, 0x20)) // buyer's base
                    sstore(slot, add(sload(slot), amount))
                    // Re-read: for a self-trade the seller's base slot is the buyer's, just credited.
                    sstore(sellerBase, sub(sload(sellerBase), amount))
                    slot := mload(add(s, 0x40)) // seller's quote
                    sstore(slot, add(sload(slot), add(sub(quote, sellFee), sellRebate)))
                    let feeSlot := add(add(fees, 0x20), shl(5, and(shr(168, buyMeta), 0xff)))
                    mstore(feeSlot, add(mload(feeSlot), sub(add(buyFee, sellFee), add(buyRebate, sellRebate))))
                    // FillsSettled entry; each mstore spills zeros into the next field, written after it.
                    mstore(out, shl(96, buyMeta))
                    mstore(add(out, 20), shl(96, sellMeta))
                    mstore8(add(out, 40), and(shr(160, buyMeta), 0xff))
                    mstore8(add(out, 41), and(shr(168, buyMeta), 0xff))
                    mstore(add(out, 42), shl(128, amount))
                    mstore(add(out, 58), shl(128, quote))
                    // Signed fees: the low 128 bits of fee - rebate are its int128 two's complement.
                    mstore(add(out, 74), shl(128, sub(buyFee, buyRebate)))
                    mstore(add(out, 90), shl(128, sub(sellFee, sellRebate)))
                    out := add(out, SETTLED_FILL_BYTES)
                }
            }
            mstore(skipped, skipCount)
            mstore(settled, sub(out, add(settled, 0x20)))
        }
        if (err == 9) revert RebateExceedsFee(errFill, errOrder, errRebate, errFee);
        if (err != 0) _revertFill(err, errFill, errOrder);
    }

    function _revertFill(uint256 err, uint256 f, uint256 o) private pure {
        if (err == 1) revert InvalidOrderIndex(f);
        if (err == 2) revert SideMismatch(f);
        if (err == 3) revert MarketMismatch(f);
        if (err == 4) revert ZeroFill(f);
        if (err == 5) revert PriceLimitExceeded(f, o);
        if (err == 6) revert InexactQuoteAmount(f);
        if (err == 7) revert FeeRateExceeded(f, o);
        if (err == 10) revert RebateOnBothSides(f);
        revert Overfill(f, o);
    }

    /// @dev Persists fill progress once per order: a completed order sets its nonce's used bit and clears its
    /// partial bit (cheap for repeat traders: 128 nonces share a warm word) and drops its own record; a partial
    /// one sets the partial bit and stores its amount. The word is re-read for every order because orders of
    /// one trader share it. Emits one OrdersFilled(batchId, fills) with 48 bytes per order filled in the batch.
    function _recordFills(uint256[] memory rec, uint256 orderCount, uint64 batchId) private {
        bytes32 topic = OrdersFilled.selector;
        assembly ("memory-safe") {
            let mask := 0xffffffffffffffffffffffffffffffff
            // ABI-encoded event data: offset 0x20 | length | packed entries (zero-padded to a word).
            let data := mload(0x40)
            let out := add(data, 0x40)
            for { let i := 0 } lt(i, orderCount) { i := add(i, 1) } {
                let r := add(add(rec, 0x20), mul(i, 0xe0))
                let w := mload(add(r, 0xa0))
                let filled := and(w, mask)
                let initial := shr(128, w)
                if eq(filled, initial) { continue }
                let orderHash := mload(r)
                let nonceSlot := mload(add(r, 0xc0))
                let nonceBit := and(shr(216, mload(add(r, 0x60))), 0xff)
                let state := sload(nonceSlot)
                switch eq(filled, shr(128, mload(add(r, 0x80))))
                case 1 {
                    sstore(nonceSlot, or(and(state, not(shl(nonceBit, 2))), shl(nonceBit, 1)))
                    if initial {
                        mstore(0x00, orderHash)
                        mstore(0x20, filledAmount.slot)
                        sstore(keccak256(0x00, 0x40), 0)
                    }
                }
                default {
                    if iszero(and(shr(nonceBit, state), 2)) { sstore(nonceSlot, or(state, shl(nonceBit, 2))) }
                    mstore(0x00, orderHash)
                    mstore(0x20, filledAmount.slot)
                    sstore(keccak256(0x00, 0x40), filled)
                }
                mstore(out, orderHash)
                mstore(add(out, 0x20), shl(128, filled))
                out := add(out, 48)
            }
            let length := sub(out, add(data, 0x40))
            mstore(out, 0) // zero padding of the last word
            mstore(data, 0x20)
            mstore(add(data, 0x20), length)
            log2(data, add(0x40, and(add(length, 31), not(31))), topic, batchId)
        }
    }

    // ------------------------------------------------------------------------------------------ views

    function balanceOf(address token, address trader) external view returns (uint256) {
        return _balances[token][trader];
    }

    function pendingWithdrawal(address trader, address token)
        external
        view
        returns (uint256 amount, uint256 availableAt)
    {
        Withdrawal memory w = _withdrawals[trader][token];
        return (w.amount, w.availableAt);
    }

    /// @notice True once an order of `trader` with this nonce was completely filled.
    function isNonceUsed(address trader, uint64 nonce) external view returns (bool) {
        return (_nonceStates[trader][nonce >> 7] >> ((nonce & 0x7f) << 1)) & 1 == 1;
    }

    /// @notice The EIP-712 digest of an order: the hash traders sign and the key of filledAmount.
    function hashOrder(Order calldata order) external view returns (bytes32) {
        return _orderDigest(
            _domainSeparator(),
            keccak256(
                abi.encode(
                    ORDER_TYPEHASH,
                    order.trader,
                    order.baseToken,
                    order.quoteToken,
                    order.isBuy,
                    order.price,
                    order.size,
                    order.maxFeeRate,
                    order.expiry,
                    order.nonce
                )
            )
        );
    }

    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparator();
    }

    /// @notice EIP-5267: lets wallets and viem's getEip712Domain read the signing domain.
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (hex"0f", DOMAIN_NAME, DOMAIN_VERSION, block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    // ------------------------------------------------------------------------------------------ internals

    function _domainSeparator() private view returns (bytes32) {
        // Recomputed after a chain fork so signatures for one chain never verify on the other.
        return block.chainid == _cachedChainId ? _cachedDomainSeparator : _buildDomainSeparator();
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(
            abi.encode(
                DOMAIN_TYPEHASH,
                keccak256(bytes(DOMAIN_NAME)),
                keccak256(bytes(DOMAIN_VERSION)),
                block.chainid,
                address(this)
            )
        );
    }

    function _orderDigest(bytes32 domainSeparator, bytes32 structHash) private pure returns (bytes32 digest) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, hex"1901")
            mstore(add(ptr, 0x02), domainSeparator)
            mstore(add(ptr, 0x22), structHash)
            digest := keccak256(ptr, 0x42)
        }
    }

    function _word(bytes calldata data, uint256 offset) private pure returns (uint256 w) {
        assembly ("memory-safe") {
            w := calldataload(add(data.offset, offset))
        }
    }

    function _tokenBalance(address token) private view returns (uint256) {
        (bool ok, bytes memory data) = token.staticcall(abi.encodeWithSelector(0x70a08231, address(this))); // balanceOf
        if (!ok || data.length < 32) revert TokenTransferFailed(token);
        return abi.decode(data, (uint256));
    }

    /// @dev Accepts tokens that return nothing (USDT-style) as well as those returning true.
    function _callToken(address token, bytes memory data) private {
        if (token.code.length == 0) revert TokenTransferFailed(token);
        (bool ok, bytes memory ret) = token.call(data);
        if (!ok || (ret.length != 0 && (ret.length < 32 || abi.decode(ret, (uint256)) != 1))) {
            revert TokenTransferFailed(token);
        }
    }
}
