// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title ParallaxSettlement
/// @notice Vault and batch settlement for the Parallax exchange.
///
/// Traders deposit ERC-20 tokens into internal balances. The off-chain engine matches orders that traders
/// signed (EIP-712) and the operator settles the resulting fills here in batches with sequential ids.
/// The operator can only move balances as the signed orders allow: every fill is checked against the
/// signatures, the signed limit price, the signed size (tracked across batches), the signed expiry and the
/// signed maximum fee rate. Withdrawals are requested on-chain and become executable by anyone after
/// `withdrawalDelay` without the operator (the escape hatch); the operator may execute them earlier.
///
/// Amounts are token base units. A price is the quote amount, in quote base units, for PRICE_SCALE (1e18)
/// base units of the base token: quote = base * price / 1e18, and a fill whose quote amount is not an exact
/// integer reverts (so rounding can never be used to shave value off one side). Fees are charged in the
/// quote token at a rate in millionths of the quote amount, rounded down (in the trader's favour).
///
/// The batch calldata is a packed byte string (the layout is documented in libs/chain/README.md): each
/// order appears once per batch, sorted by hash, fills reference orders by index, and each order's
/// signature is checked at most once per batch (and not again once it has a recorded partial fill).
contract ParallaxSettlement {
    // ------------------------------------------------------------------------------------------ constants

    uint256 public constant PRICE_SCALE = 1e18;
    uint256 public constant FEE_RATE_SCALE = 1_000_000;
    /// @notice Hard cap on any fee rate (10%), whatever an order signed.
    uint256 public constant MAX_FEE_RATE = 100_000;
    /// @notice The withdrawal delay is immutable and bounded, so funds cannot be locked for long.
    uint256 public constant MAX_WITHDRAWAL_DELAY = 30 days;
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
    uint256 private constant FILL_BYTES = 44;

    // In-memory order record: RECORD_WORDS words per order, see _loadOrders.
    uint256 private constant RECORD_WORDS = 7;
    uint256 private constant MASK_128 = type(uint128).max;

    // ------------------------------------------------------------------------------------------ state

    uint256 public immutable withdrawalDelay;
    uint256 private immutable _cachedChainId;
    bytes32 private immutable _cachedDomainSeparator;

    address public owner;
    address public pendingOwner;
    address public operator;
    address public feeRecipient;
    /// @notice The id of the last settled batch; the next batch must carry lastBatchId + 1.
    uint64 public lastBatchId;

    mapping(address token => mapping(address trader => uint256)) private _balances;
    /// @notice Base amount filled so far of an open, partially filled order (by EIP-712 order hash).
    /// Zero for untouched orders and for completed ones (whose nonce is then marked used).
    mapping(bytes32 orderHash => uint256) public filledAmount;
    /// @dev trader => nonce / 256 => bitmap of nonces whose order was completely filled.
    mapping(address trader => mapping(uint256 word => uint256)) private _usedNonces;
    mapping(address trader => mapping(address token => Withdrawal)) private _withdrawals;

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
    /// @notice Emitted once per order that was filled in a batch; filledTotal is the order's cumulative
    /// filled base amount after the batch (idempotent for consumers: apply it as a value, not a delta).
    event OrderFilled(bytes32 indexed orderHash, address indexed trader, uint64 batchId, uint256 filledTotal);
    event FeesCollected(uint64 indexed batchId, address indexed token, address recipient, uint256 amount);
    event BatchSettled(uint64 indexed batchId, uint256 orderCount, uint256 fillCount);
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
    error Overfill(uint256 fillIndex, uint256 orderIndex);
    error FillUnderfunded(uint256 fillIndex, uint256 orderIndex);

    // ------------------------------------------------------------------------------------------ setup

    constructor(address owner_, address operator_, address feeRecipient_, uint256 withdrawalDelay_) {
        if (owner_ == address(0) || operator_ == address(0) || feeRecipient_ == address(0)) revert ZeroAddress();
        if (withdrawalDelay_ > MAX_WITHDRAWAL_DELAY) revert InvalidWithdrawalDelay(withdrawalDelay_);
        owner = owner_;
        operator = operator_;
        feeRecipient = feeRecipient_;
        withdrawalDelay = withdrawalDelay_;
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

    /// @notice The owner rotates the operator key. Neither can move funds beyond what traders signed.
    function setOperator(address newOperator) external onlyOwner {
        if (newOperator == address(0)) revert ZeroAddress();
        emit OperatorChanged(operator, newOperator);
        operator = newOperator;
    }

    function setFeeRecipient(address newRecipient) external onlyOwner {
        if (newRecipient == address(0)) revert ZeroAddress();
        emit FeeRecipientChanged(feeRecipient, newRecipient);
        feeRecipient = newRecipient;
    }

    function transferOwnership(address newOwner) external onlyOwner {
        pendingOwner = newOwner;
        emit OwnershipTransferStarted(msg.sender, newOwner);
    }

    function acceptOwnership() external {
        if (msg.sender != pendingOwner) revert NotPendingOwner(msg.sender);
        emit OwnershipTransferred(owner, msg.sender);
        owner = msg.sender;
        pendingOwner = address(0);
    }

    // ------------------------------------------------------------------------------------------ vault

    /// @notice Deposits `amount` of `token` from the caller into the caller's trading balance.
    function deposit(address token, uint256 amount) external {
        depositFor(msg.sender, token, amount);
    }

    /// @notice Deposits from the caller into `trader`'s balance (funding desks, sub-accounts, bridges).
    /// Credits the amount actually received (fee-on-transfer tokens credit less than `amount`).
    function depositFor(address trader, address token, uint256 amount) public nonReentrant {
        if (trader == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        uint256 before = _tokenBalance(token);
        _callToken(token, abi.encodeWithSelector(0x23b872dd, msg.sender, address(this), amount)); // transferFrom
        uint256 afterwards = _tokenBalance(token);
        if (afterwards <= before) revert TokenTransferFailed(token);
        uint256 received = afterwards - before;
        uint256 balance = _balances[token][trader] + received;
        _balances[token][trader] = balance;
        emit Deposited(trader, token, msg.sender, received, balance);
    }

    /// @notice Starts a withdrawal of `amount` (replacing any pending request for the token, which restarts
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

    function cancelWithdrawal(address token) external {
        uint256 amount = _withdrawals[msg.sender][token].amount;
        if (amount == 0) revert NoPendingWithdrawal(msg.sender, token);
        delete _withdrawals[msg.sender][token];
        emit WithdrawalCancelled(msg.sender, token, amount);
    }

    /// @notice Pays a requested withdrawal to the trader. The operator may do it at once (after settling the
    /// trader's matched fills); anyone may do it once the delay has passed, without the operator.
    function executeWithdrawal(address trader, address token) external nonReentrant {
        Withdrawal memory w = _withdrawals[trader][token];
        if (w.amount == 0) revert NoPendingWithdrawal(trader, token);
        if (msg.sender != operator && block.timestamp < w.availableAt) {
            revert WithdrawalNotReady(trader, token, w.availableAt);
        }
        uint256 balance = _balances[token][trader];
        if (balance < w.amount) revert InsufficientBalance(trader, token, balance, w.amount);
        unchecked {
            balance -= w.amount;
        }
        _balances[token][trader] = balance;
        delete _withdrawals[trader][token];
        _callToken(token, abi.encodeWithSelector(0xa9059cbb, trader, w.amount)); // transfer
        emit WithdrawalExecuted(trader, token, w.amount, balance);
    }

    // ------------------------------------------------------------------------------------------ settlement

    /// @notice Settles a batch of fills. Only the operator; `batchId` must be lastBatchId + 1. Atomic: any
    /// invalid fill reverts the whole batch with an error naming the fill or order index.
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
        _applyFills(batch, ordersOffset + orderCount * ORDER_BYTES, fillCount, orderCount, rec, fees);
        _recordFills(rec, orderCount, batchId);

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

    /// @dev Checks every order once and builds its in-memory record (RECORD_WORDS words):
    ///   0 order hash (EIP-712 digest)
    ///   1 balance slot of (trader, base token)      2 balance slot of (trader, quote token)
    ///   3 trader | baseIdx << 160 | quoteIdx << 168 | isBuy << 176 | maxFeeRate << 184 | (nonce % 256) << 216
    ///   4 price | size << 128
    ///   5 filled (running) | filled before this batch << 128
    ///   6 storage slot of the trader's used-nonce bitmap word for this nonce
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
        uint256 previousHash;
        for (uint256 i; i < orderCount; ++i) {
            uint256 p = offset + i * ORDER_BYTES;
            address trader = address(uint160(_word(batch, p) >> 96));
            uint256 meta = _word(batch, p + 20);
            uint256 baseIdx = meta >> 248;
            uint256 quoteIdx = (meta >> 240) & 0xff;
            uint256 flags = (meta >> 232) & 0xff;
            if (baseIdx >= tokenCount || quoteIdx >= tokenCount) revert InvalidTokenIndex(i);
            if (flags > 1) revert InvalidOrderFlags(i);
            uint256 price = _word(batch, p + 23) >> 128;
            uint256 size = _word(batch, p + 39) >> 128;
            uint256 maxFeeRate = _word(batch, p + 55) >> 224;
            uint64 expiry = uint64(_word(batch, p + 59) >> 192);
            uint256 nonce = _word(batch, p + 67) >> 192;
            if (expiry < block.timestamp) revert OrderExpired(i, expiry);

            bytes32 orderHash = _orderDigest(
                domainSeparator,
                _structHash(trader, tokens[baseIdx], tokens[quoteIdx], flags, price, size, maxFeeRate, expiry, nonce)
            );

            // An order may appear once per batch: fills of a duplicate would be counted against a copy of
            // its filled amount. Transient storage keyed by the hash holds the id of the batch that saw it.
            // Orders come sorted by strictly increasing hash, which rules out duplicates: fills of a second
            // copy of an order would be counted against a separate running total.
            if (uint256(orderHash) <= previousHash) revert UnsortedOrders(i);
            previousHash = uint256(orderHash);

            uint256 nonceSlot;
            assembly ("memory-safe") {
                mstore(0x00, trader)
                mstore(0x20, _usedNonces.slot)
                mstore(0x20, keccak256(0x00, 0x40))
                mstore(0x00, shr(8, nonce))
                nonceSlot := keccak256(0x00, 0x40)
            }
            if ((_sload(nonceSlot) >> (nonce & 0xff)) & 1 == 1) revert OrderNonceUsed(i);

            uint256 filled = filledAmount[orderHash];
            // A recorded partial fill proves the signature was checked in an earlier batch.
            if (filled == 0) _checkSignature(batch, p + 75, orderHash, trader, i);

            uint256 r = i * RECORD_WORDS;
            rec[r] = uint256(orderHash);
            rec[r + 1] = _balanceSlot(tokenSlots[baseIdx], trader);
            rec[r + 2] = _balanceSlot(tokenSlots[quoteIdx], trader);
            rec[r + 3] = uint256(uint160(trader)) | (baseIdx << 160) | (quoteIdx << 168) | (flags << 176)
                | (maxFeeRate << 184) | ((nonce & 0xff) << 216);
            rec[r + 4] = price | (size << 128);
            rec[r + 5] = filled | (filled << 128);
            rec[r + 6] = nonceSlot;
        }
    }

    function _checkSignature(bytes calldata batch, uint256 p, bytes32 digest, address trader, uint256 i)
        private
        pure
    {
        bytes32 r = bytes32(_word(batch, p));
        uint256 s = _word(batch, p + 32);
        uint256 v = _word(batch, p + 64) >> 248;
        if (s > HALF_CURVE_ORDER || (v != 27 && v != 28)) revert InvalidSignature(i);
        address signer = ecrecover(digest, uint8(v), r, bytes32(s));
        if (signer == address(0) || signer != trader) revert InvalidSignature(i);
    }

    function _applyFills(
        bytes calldata batch,
        uint256 offset,
        uint256 fillCount,
        uint256 orderCount,
        uint256[] memory rec,
        uint256[] memory fees
    ) private {
        for (uint256 f; f < fillCount; ++f) {
            uint256 q = offset + f * FILL_BYTES;
            uint256 head = _word(batch, q);
            uint256 buyIdx = head >> 240;
            uint256 sellIdx = (head >> 224) & 0xffff;
            if (buyIdx >= orderCount || sellIdx >= orderCount) revert InvalidOrderIndex(f);
            uint256 b = buyIdx * RECORD_WORDS;
            uint256 s = sellIdx * RECORD_WORDS;
            uint256 buyMeta = rec[b + 3];
            uint256 sellMeta = rec[s + 3];
            if ((buyMeta >> 176) & 1 != 1 || (sellMeta >> 176) & 1 != 0) revert SideMismatch(f);
            if ((buyMeta >> 160) & 0xffff != (sellMeta >> 160) & 0xffff) revert MarketMismatch(f);

            uint256 base = (head >> 96) & MASK_128;
            if (base == 0) revert ZeroFill(f);
            uint256 price = _word(batch, q + 20) >> 128;
            if (price > rec[b + 4] & MASK_128) revert PriceLimitExceeded(f, buyIdx);
            if (price < rec[s + 4] & MASK_128) revert PriceLimitExceeded(f, sellIdx);
            // base, price < 2^128: the product cannot overflow.
            uint256 notional = base * price;
            if (notional % PRICE_SCALE != 0) revert InexactQuoteAmount(f);
            uint256 quote = notional / PRICE_SCALE;

            uint256 rates = _word(batch, q + 36);
            uint256 buyFeeRate = rates >> 224;
            uint256 sellFeeRate = (rates >> 192) & 0xffffffff;
            if (buyFeeRate > (buyMeta >> 184) & 0xffffffff || buyFeeRate > MAX_FEE_RATE) {
                revert FeeRateExceeded(f, buyIdx);
            }
            if (sellFeeRate > (sellMeta >> 184) & 0xffffffff || sellFeeRate > MAX_FEE_RATE) {
                revert FeeRateExceeded(f, sellIdx);
            }
            uint256 buyFee = quote * buyFeeRate / FEE_RATE_SCALE;
            uint256 sellFee = quote * sellFeeRate / FEE_RATE_SCALE;

            _addFilled(rec, b, base, f, buyIdx);
            _addFilled(rec, s, base, f, sellIdx);

            // Buyer pays quote + fee and receives base; seller delivers base and receives quote - fee.
            _debit(rec[b + 2], quote + buyFee, f, buyIdx);
            _credit(rec[b + 1], base);
            _debit(rec[s + 1], base, f, sellIdx);
            _credit(rec[s + 2], quote - sellFee);
            unchecked {
                fees[(buyMeta >> 168) & 0xff] += buyFee + sellFee;
            }
        }
    }

    function _addFilled(uint256[] memory rec, uint256 r, uint256 base, uint256 f, uint256 orderIdx) private pure {
        uint256 w = rec[r + 5];
        uint256 filled;
        unchecked {
            filled = (w & MASK_128) + base; // both < 2^128
        }
        if (filled > rec[r + 4] >> 128) revert Overfill(f, orderIdx);
        rec[r + 5] = (w & ~MASK_128) | filled;
    }

    function _debit(uint256 slot, uint256 amount, uint256 f, uint256 orderIdx) private {
        uint256 balance = _sload(slot);
        if (balance < amount) revert FillUnderfunded(f, orderIdx);
        unchecked {
            _sstore(slot, balance - amount);
        }
    }

    /// @dev Every credit in a fill is matched by a debit of at least the same amount of the same token in
    /// that fill, so balances never exceed the tokens deposited and the addition cannot overflow.
    function _credit(uint256 slot, uint256 amount) private {
        unchecked {
            _sstore(slot, _sload(slot) + amount);
        }
    }

    /// @dev Persists fill progress once per order: completed orders mark their nonce used (cheap for repeat
    /// traders: 256 nonces share a word) and drop their partial record; partial ones store the amount.
    function _recordFills(uint256[] memory rec, uint256 orderCount, uint64 batchId) private {
        for (uint256 i; i < orderCount; ++i) {
            uint256 r = i * RECORD_WORDS;
            uint256 w = rec[r + 5];
            uint256 filled = w & MASK_128;
            uint256 initial = w >> 128;
            if (filled == initial) continue;
            bytes32 orderHash = bytes32(rec[r]);
            uint256 meta = rec[r + 3];
            if (filled == rec[r + 4] >> 128) {
                uint256 nonceSlot = rec[r + 6];
                _sstore(nonceSlot, _sload(nonceSlot) | (1 << ((meta >> 216) & 0xff)));
                if (initial != 0) filledAmount[orderHash] = 0;
            } else {
                filledAmount[orderHash] = filled;
            }
            emit OrderFilled(orderHash, address(uint160(meta)), batchId, filled);
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
        return (_usedNonces[trader][nonce >> 8] >> (nonce & 0xff)) & 1 == 1;
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

    /// @dev keccak256(abi.encode(ORDER_TYPEHASH, ...)) in scratch memory: abi.encode would allocate memory
    /// for every order of the batch, and memory cost grows quadratically.
    function _structHash(
        address trader,
        address baseToken,
        address quoteToken,
        uint256 isBuy,
        uint256 price,
        uint256 size,
        uint256 maxFeeRate,
        uint256 expiry,
        uint256 nonce
    ) private pure returns (bytes32 h) {
        bytes32 typeHash = ORDER_TYPEHASH;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, typeHash)
            mstore(add(ptr, 0x20), trader)
            mstore(add(ptr, 0x40), baseToken)
            mstore(add(ptr, 0x60), quoteToken)
            mstore(add(ptr, 0x80), isBuy)
            mstore(add(ptr, 0xa0), price)
            mstore(add(ptr, 0xc0), size)
            mstore(add(ptr, 0xe0), maxFeeRate)
            mstore(add(ptr, 0x100), expiry)
            mstore(add(ptr, 0x120), nonce)
            h := keccak256(ptr, 0x140)
        }
    }

    function _balanceSlot(uint256 tokenSlot, address trader) private pure returns (uint256 slot) {
        assembly ("memory-safe") {
            mstore(0x00, trader)
            mstore(0x20, tokenSlot)
            slot := keccak256(0x00, 0x40)
        }
    }

    function _word(bytes calldata data, uint256 offset) private pure returns (uint256 w) {
        assembly ("memory-safe") {
            w := calldataload(add(data.offset, offset))
        }
    }

    function _sload(uint256 slot) private view returns (uint256 v) {
        assembly ("memory-safe") {
            v := sload(slot)
        }
    }

    function _sstore(uint256 slot, uint256 v) private {
        assembly ("memory-safe") {
            sstore(slot, v)
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
