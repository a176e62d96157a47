// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {NodeRegistry} from "./NodeRegistry.sol";

/// @title ValueCommitments
/// @notice Pedersen commitments (BN254 G1, C = v·G + r·H) to the per-row values of a published
///         dataset version, and totals over chosen rows checked against them with the ecAdd and
///         ecMul precompiles. A department anchors the hash of a column's commitments (they are
///         hiding: the values stay secret); later it records a total (by district, by sector)
///         with the sum of the rows' blinding factors, and the contract accepts it only if
///         total·G + blinding·H equals the sum of those rows' commitments. Anyone can run the
///         same check with `checkTotal`.
contract ValueCommitments {
    /// @notice One anchored column of commitments.
    /// @param digest keccak256 of the packed commitments (64 bytes x ‖ y each, row order).
    /// @param count Number of commitments (rows).
    /// @param owner The department that committed.
    /// @param anchoredAt Block time of the anchoring.
    /// @param anchoredBlock Block of the anchoring (where its event, with the points, is).
    struct CommitmentSet {
        bytes32 digest;
        uint32 count;
        address owner;
        uint64 anchoredAt;
        uint64 anchoredBlock;
    }

    /// @notice At most this many commitments in one set (calldata and log size stay bounded).
    uint32 public constant MAX_COMMITMENTS = 4096;
    /// @notice Committed values are below 2^64 and a set has at most 4096 of them: a total is
    ///         below 2^96, which also keeps it from being shifted by the group order.
    uint256 public constant MAX_TOTAL = 2 ** 96 - 1;
    /// @notice BN254's group order: a blinding sum is given reduced below it.
    uint256 public constant GROUP_ORDER =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 private constant G_X = 1;
    uint256 private constant G_Y = 2;
    /// @dev H = the first point hashed from keccak256("tanlian/pedersen/H/v1" ‖ counter) with
    ///      an even y (node/commitments/pedersen.py derives it; the tests compare the two).
    uint256 private constant H_X = 0x190c7b99a0f220d7bb12bcf2e8fc30dd2d842a0df687c49181e281baf4610543;
    uint256 private constant H_Y = 0x034e037bac5f4931727aa70fabb009305cd16f9a604f209a369f39fa14b8998c;

    /// @notice `account` is not an active member of the network.
    error NotActiveMember(address account);
    /// @notice A set needs 1..MAX_COMMITMENTS commitments given as 64 bytes each.
    error InvalidSet(uint256 bytesGiven);
    /// @notice The caller already anchored `setId`.
    error SetExists(bytes32 setId);
    /// @notice No set `setId` was anchored.
    error UnknownSet(bytes32 setId);
    /// @notice Only the set's owner records totals on it.
    error NotSetOwner(bytes32 setId, address account);
    /// @notice The commitments given are not the anchored ones.
    error WrongCommitments(bytes32 setId, bytes32 anchored, bytes32 given);
    /// @notice Row indexes must be strictly increasing and below the set's count.
    error BadIndexes();
    /// @notice A total above MAX_TOTAL or a blinding not below GROUP_ORDER.
    error OutOfRange();
    /// @notice The total and blinding do not open the sum of the chosen commitments.
    error TotalMismatch(bytes32 setId, bytes32 groupHash);
    /// @notice An ecAdd/ecMul precompile refused its input (a commitment not on the curve).
    error PrecompileFailed();

    /// @notice `owner` anchored the commitments of column `column` (in `unit`) of version
    ///         `version` of dataset `datasetId`; `commitments` are the packed points.
    event CommitmentsAnchored(
        bytes32 indexed setId,
        address indexed owner,
        bytes32 indexed datasetId,
        uint32 version,
        string column,
        string unit,
        bytes32 digest,
        uint32 count,
        bytes commitments
    );
    /// @notice The owner recorded `total` over the rows `indexes` of `setId` for `group`
    ///         (e.g. "district=510104"; groupHash = keccak256 of it), opened with `blinding`:
    ///         anyone can re-check it from the events.
    event TotalRecorded(
        bytes32 indexed setId,
        bytes32 indexed groupHash,
        string group,
        uint256 total,
        uint256 blinding,
        uint32[] indexes
    );

    NodeRegistry private immutable _registry;
    mapping(bytes32 setId => CommitmentSet) private _sets;
    mapping(bytes32 setId => mapping(bytes32 groupHash => uint256)) private _totals;

    /// @param registry_ The network's NodeRegistry.
    constructor(NodeRegistry registry_) {
        _registry = registry_;
    }

    /// @notice The id of `owner`'s commitments to `column` of `datasetId` version `version`.
    function setIdOf(address owner, bytes32 datasetId, uint32 version, string calldata column)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(owner, datasetId, version, column));
    }

    /// @notice Anchors the caller's commitments to one column of a dataset version.
    /// @param datasetId The dataset (DataCatalog's id).
    /// @param version Its version.
    /// @param column The column committed to.
    /// @param unit The integer unit of the values (e.g. "kgCO2e").
    /// @param commitments The packed commitments, 64 bytes (x ‖ y) each, in row order.
    /// @return setId The set's id (setIdOf).
    function anchorCommitments(
        bytes32 datasetId,
        uint32 version,
        string calldata column,
        string calldata unit,
        bytes calldata commitments
    ) external returns (bytes32 setId) {
        if (_registry.activeRolesOf(msg.sender) == 0) revert NotActiveMember(msg.sender);
        uint256 n = commitments.length / 64;
        if (commitments.length % 64 != 0 || n == 0 || n > MAX_COMMITMENTS) {
            revert InvalidSet(commitments.length);
        }
        setId = setIdOf(msg.sender, datasetId, version, column);
        if (_sets[setId].owner != address(0)) revert SetExists(setId);
        bytes32 digest = keccak256(commitments);
        _sets[setId] = CommitmentSet({
            digest: digest,
            count: uint32(n),
            owner: msg.sender,
            anchoredAt: uint64(block.timestamp),
            anchoredBlock: uint64(block.number)
        });
        emit CommitmentsAnchored(setId, msg.sender, datasetId, version, column, unit, digest, uint32(n), commitments);
    }

    /// @notice Records a total over rows of the caller's set, after checking it opens the
    ///         sum of their commitments.
    /// @param setId The set.
    /// @param commitments The set's packed commitments (checked against the anchored digest).
    /// @param indexes The rows summed, strictly increasing.
    /// @param total The total of their values.
    /// @param blinding The sum of their blinding factors, reduced below GROUP_ORDER.
    /// @param group What the group is (e.g. "district=510104"), for the record.
    function recordTotal(
        bytes32 setId,
        bytes calldata commitments,
        uint32[] calldata indexes,
        uint256 total,
        uint256 blinding,
        string calldata group
    ) external {
        bytes32 groupHash = keccak256(bytes(group));
        CommitmentSet memory s = _set(setId);
        if (s.owner != msg.sender) revert NotSetOwner(setId, msg.sender);
        if (!_opens(s, setId, commitments, indexes, total, blinding)) revert TotalMismatch(setId, groupHash);
        _totals[setId][groupHash] = total + 1; // 0 means none recorded
        emit TotalRecorded(setId, groupHash, group, total, blinding, indexes);
    }

    /// @notice Whether `total` with `blinding` opens the sum of the commitments at `indexes`
    ///         (reverts on commitments that are not the anchored ones, or bad indexes).
    function checkTotal(
        bytes32 setId,
        bytes calldata commitments,
        uint32[] calldata indexes,
        uint256 total,
        uint256 blinding
    ) external view returns (bool) {
        return _opens(_set(setId), setId, commitments, indexes, total, blinding);
    }

    /// @notice The anchored set `setId`.
    function commitmentSet(bytes32 setId) external view returns (CommitmentSet memory) {
        return _set(setId);
    }

    /// @notice The total recorded for `groupHash` on `setId` (found: false if none).
    function recordedTotal(bytes32 setId, bytes32 groupHash) external view returns (bool found, uint256 total) {
        uint256 stored = _totals[setId][groupHash];
        return stored == 0 ? (false, 0) : (true, stored - 1);
    }

    /// @notice The two generators, G and H, as (x, y) pairs.
    function generators() external pure returns (uint256[2] memory g, uint256[2] memory h) {
        return ([G_X, G_Y], [H_X, H_Y]);
    }

    function _set(bytes32 setId) private view returns (CommitmentSet memory s) {
        s = _sets[setId];
        if (s.owner == address(0)) revert UnknownSet(setId);
    }

    function _opens(
        CommitmentSet memory s,
        bytes32 setId,
        bytes calldata commitments,
        uint32[] calldata indexes,
        uint256 total,
        uint256 blinding
    ) private view returns (bool) {
        bytes32 given = keccak256(commitments);
        if (given != s.digest) revert WrongCommitments(setId, s.digest, given);
        if (total > MAX_TOTAL || blinding >= GROUP_ORDER) revert OutOfRange();
        if (indexes.length == 0) revert BadIndexes();
        uint256 ax;
        uint256 ay;
        uint256 previous;
        for (uint256 k = 0; k < indexes.length; ++k) {
            uint256 i = indexes[k];
            if (i >= s.count || (k > 0 && i <= previous)) revert BadIndexes();
            previous = i;
            uint256 px = uint256(bytes32(commitments[i * 64:i * 64 + 32]));
            uint256 py = uint256(bytes32(commitments[i * 64 + 32:i * 64 + 64]));
            (ax, ay) = _add(ax, ay, px, py);
        }
        (uint256 gx, uint256 gy) = _mul(G_X, G_Y, total);
        (uint256 hx, uint256 hy) = _mul(H_X, H_Y, blinding);
        (uint256 ex, uint256 ey) = _add(gx, gy, hx, hy);
        return ex == ax && ey == ay;
    }

    function _add(uint256 x1, uint256 y1, uint256 x2, uint256 y2) private view returns (uint256, uint256) {
        uint256[4] memory input = [x1, y1, x2, y2];
        uint256[2] memory out;
        bool ok;
        assembly ("memory-safe") {
            ok := staticcall(gas(), 0x06, input, 0x80, out, 0x40)
        }
        if (!ok) revert PrecompileFailed();
        return (out[0], out[1]);
    }

    function _mul(uint256 x, uint256 y, uint256 k) private view returns (uint256, uint256) {
        uint256[3] memory input = [x, y, k];
        uint256[2] memory out;
        bool ok;
        assembly ("memory-safe") {
            ok := staticcall(gas(), 0x07, input, 0x60, out, 0x40)
        }
        if (!ok) revert PrecompileFailed();
        return (out[0], out[1]);
    }
}
