// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title ChainProbe
/// @notice A small contract that exercises what every chain backend must support:
///         deployment with constructor arguments, state changes, views, indexed events and
///         reverts with custom errors. The backend conformance suite and the chain
///         benchmarks run against it; the product contracts never depend on it.
contract ChainProbe is AccessControl {
    /// @notice Role allowed to write values.
    bytes32 public constant WRITER_ROLE = keccak256("WRITER_ROLE");

    /// @notice The caller tried to store zero, which the probe treats as invalid input.
    error ZeroValue(address caller);
    /// @notice A batch asked for more events than one transaction may emit.
    error BatchTooLarge(uint256 requested, uint256 limit);

    /// @notice A value was stored under a key.
    event ValueStored(bytes32 indexed key, address indexed writer, uint256 value);
    /// @notice One event of a batch emitted by `emitBatch`.
    event Pinged(uint256 indexed tag, uint256 indexed seq, bytes32 payload);

    uint256 private constant _MAX_BATCH = 500;
    string private _label;
    mapping(bytes32 key => uint256) private _values;
    uint256 private _writes;

    /// @param label_ A free label returned by `label()`.
    constructor(string memory label_) {
        _label = label_;
        _grantRole(DEFAULT_ADMIN_ROLE, msg.sender);
        _grantRole(WRITER_ROLE, msg.sender);
    }

    /// @notice Stores `value` under `key`.
    /// @dev Reverts with `ZeroValue` for zero and `AccessControlUnauthorizedAccount` for
    ///      callers without WRITER_ROLE.
    function store(bytes32 key, uint256 value) external onlyRole(WRITER_ROLE) {
        if (value == 0) revert ZeroValue(msg.sender);
        _values[key] = value;
        ++_writes;
        emit ValueStored(key, msg.sender, value);
    }

    /// @notice Emits `count` `Pinged` events tagged `tag`, numbered from `firstSeq`.
    function emitBatch(uint256 tag, uint256 firstSeq, uint256 count) external {
        if (count > _MAX_BATCH) revert BatchTooLarge(count, _MAX_BATCH);
        for (uint256 i = 0; i < count; ++i) {
            emit Pinged(tag, firstSeq + i, keccak256(abi.encode(tag, firstSeq + i)));
        }
    }

    /// @notice The value stored under `key` (zero when none).
    function valueOf(bytes32 key) external view returns (uint256) {
        return _values[key];
    }

    /// @notice How many successful `store` calls there have been.
    function writes() external view returns (uint256) {
        return _writes;
    }

    /// @notice The label given at deployment.
    function label() external view returns (string memory) {
        return _label;
    }
}
