// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {NodeRegistry} from "./NodeRegistry.sol";

/// @title AuditLog
/// @notice Merkle roots of the nodes' access logs (downloads served, DP answers, decisions).
///         Each node anchors its log in consecutive batches; an entry is later proved with an
///         inclusion proof against its batch's root, so an edited, dropped or reordered entry
///         shows. Only roots, counts and times are stored: the entries stay at the node.
contract AuditLog {
    /// @notice One anchored batch of a node's log.
    /// @param root Merkle root (RFC 6962 style, SHA-256) of the batch's entry hashes.
    /// @param count Number of entries in the batch.
    /// @param firstAt Time of the batch's first entry (unix seconds).
    /// @param lastAt Time of its last entry.
    /// @param anchoredAt Block time at which the root was anchored.
    struct Batch {
        bytes32 root;
        uint32 count;
        uint64 firstAt;
        uint64 lastAt;
        uint64 anchoredAt;
    }

    /// @notice `account` is not an active member of the network.
    error NotActiveMember(address account);
    /// @notice Batches are anchored in order: `expected` is the next one of `node`.
    error OutOfOrder(address node, uint64 expected, uint64 given);
    /// @notice A batch needs at least one entry, a non-zero root and firstAt <= lastAt.
    error InvalidBatch();

    /// @notice `node` anchored batch `seq` of its access log.
    event LogBatchAnchored(
        address indexed node, uint64 indexed seq, bytes32 root, uint32 count, uint64 firstAt, uint64 lastAt
    );

    NodeRegistry private immutable _registry;
    mapping(address node => Batch[]) private _batches;

    /// @param registry_ The network's NodeRegistry.
    constructor(NodeRegistry registry_) {
        _registry = registry_;
    }

    /// @notice Anchors the caller's log batch `seq` (0, 1, 2, … with no gaps).
    function anchorBatch(uint64 seq, bytes32 root, uint32 count, uint64 firstAt, uint64 lastAt) external {
        if (_registry.activeRolesOf(msg.sender) == 0) revert NotActiveMember(msg.sender);
        uint64 expected = uint64(_batches[msg.sender].length);
        if (seq != expected) revert OutOfOrder(msg.sender, expected, seq);
        if (count == 0 || root == bytes32(0) || firstAt > lastAt) revert InvalidBatch();
        _batches[msg.sender].push(
            Batch({root: root, count: count, firstAt: firstAt, lastAt: lastAt, anchoredAt: uint64(block.timestamp)})
        );
        emit LogBatchAnchored(msg.sender, seq, root, count, firstAt, lastAt);
    }

    /// @notice How many batches `node` has anchored.
    function batchCount(address node) external view returns (uint64) {
        return uint64(_batches[node].length);
    }

    /// @notice Batch `seq` of `node`; reverts with OutOfOrder when it does not exist.
    function batchOf(address node, uint64 seq) external view returns (Batch memory) {
        uint64 count = uint64(_batches[node].length);
        if (seq >= count) revert OutOfOrder(node, count, seq);
        return _batches[node][seq];
    }

    /// @notice The registry this log trusts.
    function registry() external view returns (NodeRegistry) {
        return _registry;
    }
}
