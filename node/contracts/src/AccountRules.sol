// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @dev The two views of NodeRegistry these rules read.
interface IMembership {
    function statusOf(address account) external view returns (uint8);
    function hasRole(bytes32 role, address account) external view returns (bool);
}

/// @title AccountRules
/// @notice Besu's onchain account permissioning for a Tanlian network: the write rules a
/// Tanlian chain host enforces itself (node/chain/embedded/permissioning.py), as the
/// `transactionAllowed` view every Besu validator calls before it admits or imports a
/// transaction. An active member may call the registry, the network's contracts and these
/// rules; a pending member the registry only; an account the registry does not know
/// exactly `register(...)` on it; a suspended member nothing. A contract deployment is
/// admitted from the registry's active regulators, or, before the registry is set, from
/// the genesis administrators. A view cannot count, so the chain host's per-account write
/// rate has no counterpart here.
/// @dev The contract lives in the genesis `alloc` (network-config/besu/generate.py), where
/// no constructor runs: the storage layout below is written there slot by slot, so it must
/// not change (slot 0 the administrators, 1 the registry, 2 the network's contracts).
contract AccountRules {
    /// @dev NodeRegistry.Status
    uint8 private constant _PENDING = 1;
    uint8 private constant _ACTIVE = 2;
    uint8 private constant _SUSPENDED = 3;
    bytes32 private constant _REGULATOR_ROLE = keccak256("REGULATOR");
    bytes4 private constant _REGISTER = bytes4(keccak256("register(string,uint8,bytes32,string)"));

    mapping(address account => bool) private _administrators;
    address private _registry;
    mapping(address target => bool) private _networkContracts;

    /// @notice `account` may not change the rules: before the registry is set only the
    /// genesis administrators do, afterwards the registry's active regulators.
    error NotAnAdministrator(address account);
    /// @notice The address has no contract code.
    error NotAContract(address target);
    /// @notice The registry is set once.
    error RegistryAlreadySet(address registry);

    /// @notice The network's NodeRegistry is now `registry`, set by `by`.
    event RegistrySet(address indexed registry, address indexed by);
    /// @notice Active members may now call `target`, added by `by`.
    event NetworkContractAdded(address indexed target, address indexed by);

    /// @notice Whether Besu admits a transaction from `sender` to `target` (zero for a
    /// contract deployment) carrying `payload`. Value, gas price and gas limit are not
    /// judged: the network runs at zero gas price.
    /// @param sender the transaction's signer
    /// @param target its recipient, zero for a deployment
    /// @param payload its call data (or init code)
    /// @return allowed true when the transaction may enter the chain
    function transactionAllowed(
        address sender,
        address target,
        uint256, /* value */
        uint256, /* gasPrice */
        uint256, /* gasLimit */
        bytes calldata payload
    ) external view returns (bool allowed) {
        address registry = _registry;
        if (registry.code.length == 0) {
            // the network is being set up: only its genesis administrators write
            return _administrators[sender];
        }
        (bool readable, uint8 status, bool regulator) = _membership(registry, sender);
        if (!readable) return false;
        if (target == address(0)) return status == _ACTIVE && regulator;
        if (status == _ACTIVE) {
            return target == registry || target == address(this) || _networkContracts[target];
        }
        if (status == _SUSPENDED || target != registry) return false;
        if (status == _PENDING) return true;
        return payload.length >= 4 && bytes4(payload[:4]) == _REGISTER;
    }

    /// @notice Set the network's NodeRegistry, once, after an administrator deployed it.
    /// @param registry the NodeRegistry's address (it must hold code)
    function setRegistry(address registry) external {
        if (_registry.code.length != 0) revert RegistryAlreadySet(_registry);
        if (!_administrators[msg.sender]) revert NotAnAdministrator(msg.sender);
        if (registry.code.length == 0) revert NotAContract(registry);
        _registry = registry;
        emit RegistrySet(registry, msg.sender);
    }

    /// @notice Let active members call `target` (the catalog, the access manager, the audit
    /// log). Only the registry's active regulators add contracts.
    /// @param target the contract's address (it must hold code)
    function addNetworkContract(address target) external {
        if (!_isAdministrator(msg.sender)) revert NotAnAdministrator(msg.sender);
        if (target.code.length == 0) revert NotAContract(target);
        _networkContracts[target] = true;
        emit NetworkContractAdded(target, msg.sender);
    }

    /// @notice The registry these rules read (zero before it is set).
    function registry() external view returns (address) {
        return _registry;
    }

    /// @notice Whether `account` is one of the genesis administrators.
    function isGenesisAdministrator(address account) external view returns (bool) {
        return _administrators[account];
    }

    /// @notice Whether active members may call `target`.
    function isNetworkContract(address target) external view returns (bool) {
        return _networkContracts[target] || target == _registry || target == address(this);
    }

    function _isAdministrator(address account) private view returns (bool) {
        address registry = _registry;
        if (registry.code.length == 0) return _administrators[account];
        (bool readable, uint8 status, bool regulator) = _membership(registry, account);
        return readable && status == _ACTIVE && regulator;
    }

    /// @dev A registry that reverts admits nobody (fail safe), rather than blocking Besu.
    function _membership(address registry, address account)
        private
        view
        returns (bool readable, uint8 status, bool regulator)
    {
        try IMembership(registry).statusOf(account) returns (uint8 s) {
            status = s;
        } catch {
            return (false, 0, false);
        }
        if (status == _ACTIVE) {
            try IMembership(registry).hasRole(_REGULATOR_ROLE, account) returns (bool r) {
                regulator = r;
            } catch {
                return (false, status, false);
            }
        }
        return (true, status, regulator);
    }
}
