// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title QuirkyToken
/// @notice Test-only ERC-20 with the behaviours real tokens have that a vault must survive: a transfer fee,
/// no return value (USDT-style), and a hook that re-enters the vault during transferFrom.
contract QuirkyToken {
    mapping(address owner => uint256) public balanceOf;
    mapping(address owner => mapping(address spender => uint256)) public allowance;

    /// @notice Fee burnt from every transfer, in basis points of the amount.
    uint256 public feeBps;
    /// @notice When set, transfer/transferFrom return no data at all.
    bool public returnsNothing;
    /// @notice When set, transferFrom calls this target with reenterData and records the revert data.
    address public reenterTarget;
    bytes public reenterData;
    bytes public lastReenterRevert;
    bool public lastReenterSucceeded;

    error QuirkyInsufficient();

    function configure(uint256 feeBps_, bool returnsNothing_) external {
        feeBps = feeBps_;
        returnsNothing = returnsNothing_;
    }

    function setReenter(address target, bytes calldata data) external {
        reenterTarget = target;
        reenterData = data;
    }

    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        return true;
    }

    function transfer(address to, uint256 amount) external {
        _move(msg.sender, to, amount);
        _return();
    }

    function transferFrom(address from, address to, uint256 amount) external {
        if (reenterTarget != address(0)) {
            (bool ok, bytes memory ret) = reenterTarget.call(reenterData);
            lastReenterSucceeded = ok;
            lastReenterRevert = ret;
        }
        if (allowance[from][msg.sender] < amount) revert QuirkyInsufficient();
        allowance[from][msg.sender] -= amount;
        _move(from, to, amount);
        _return();
    }

    function _move(address from, address to, uint256 amount) private {
        if (balanceOf[from] < amount) revert QuirkyInsufficient();
        balanceOf[from] -= amount;
        balanceOf[to] += amount - (amount * feeBps) / 10_000;
    }

    function _return() private view {
        bool nothing = returnsNothing;
        assembly {
            if iszero(nothing) {
                mstore(0x00, 1)
                return(0x00, 0x20)
            }
            return(0x00, 0x00)
        }
    }
}
