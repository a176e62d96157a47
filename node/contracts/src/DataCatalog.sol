// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {NodeRegistry} from "./NodeRegistry.sol";

/// @title DataCatalog
/// @notice The datasets of the network: who owns each, its access policy and the hashes of
///         every published version. Only hashes, sizes and policies are stored: the data
///         stays encrypted at the owner's node.
contract DataCatalog {
    /// @notice Access rules an owner presets for a dataset.
    /// @param autoApproveRoles Requests from members holding any of these role bits are
    ///        authorized at once (ROLE_* bits of NodeRegistry).
    /// @param reviewerApprovals Otherwise: reviewer approvals needed besides the owner's.
    /// @param rawAllowed Whether decrypted copies may be released (else DP queries only).
    /// @param epsilonCeilingMilli Largest privacy budget one grant may hold, in 1/1000 of ε.
    /// @param lifetimeEpsilonMilli ε one consumer account may spend on the dataset over all
    ///        its grants, in 1/1000 of ε (at least `epsilonCeilingMilli`).
    /// @param lifetimeDeltaNano δ one consumer account may spend over all its grants, in 1e-9.
    /// @param departmentEpsilonMilli ε all the accounts of one consumer department may spend
    ///        on the dataset together (at least `lifetimeEpsilonMilli`).
    /// @param departmentDeltaNano δ a department's accounts may spend together (at least
    ///        `lifetimeDeltaNano`).
    struct Policy {
        uint8 autoApproveRoles;
        uint8 reviewerApprovals;
        bool rawAllowed;
        uint64 epsilonCeilingMilli;
        uint64 lifetimeEpsilonMilli;
        uint64 lifetimeDeltaNano;
        uint64 departmentEpsilonMilli;
        uint64 departmentDeltaNano;
    }

    /// @notice One published version of a dataset.
    /// @param dpMetadataHash SHA-256 of the canonical DP metadata (bounds, public keys) the
    ///        owner's gate answers queries with; zero when the version has none.
    struct Version {
        bytes32 plaintextHash;
        bytes32 ciphertextHash;
        bytes32 schemaHash;
        uint64 size;
        uint64 publishedAt;
        bytes32 dpMetadataHash;
    }

    /// @notice Where a derived (e.g. desensitized) version comes from.
    /// @param sourceDatasetId The dataset the version was derived from (same owner).
    /// @param sourceVersion The source version.
    /// @param profileHash Hash of the derivation profile (e.g. the desensitization rules).
    /// @param kAnonymity The k-anonymity of the declared quasi-identifiers (0: none declared).
    struct Lineage {
        bytes32 sourceDatasetId;
        uint32 sourceVersion;
        bytes32 profileHash;
        uint32 kAnonymity;
    }

    /// @notice A dataset and its owner.
    struct Dataset {
        address owner;
        string name;
        uint8 classification;
        Policy policy;
        uint32 versionCount;
    }

    /// @notice Classification levels: 0 public, 1 internal, 2 sensitive, 3 restricted.
    uint8 public constant MAX_CLASSIFICATION = 3;

    /// @notice `account` is not an active provider.
    error NotProvider(address account);
    /// @notice `datasetId` already exists.
    error DatasetExists(bytes32 datasetId);
    /// @notice `datasetId` does not exist.
    error UnknownDataset(bytes32 datasetId);
    /// @notice `account` does not own `datasetId`.
    error NotOwner(bytes32 datasetId, address account);
    /// @notice `version` of `datasetId` does not exist.
    error UnknownVersion(bytes32 datasetId, uint32 version);
    /// @notice Classification above MAX_CLASSIFICATION.
    error InvalidClassification(uint8 classification);
    /// @notice A policy that lets nothing through, that has unknown role bits, or whose
    ///         lifetime ceilings are below the grant ceiling (department below account).
    error InvalidPolicy();
    /// @notice Names must be 1-128 bytes.
    error InvalidName();
    /// @notice Hashes must not be zero.
    error InvalidHash();

    /// @notice `owner` created `datasetId` named `name`.
    event DatasetCreated(
        bytes32 indexed datasetId, address indexed owner, string name, uint8 classification, Policy policy
    );
    /// @notice `owner` published `version` of `datasetId`.
    event VersionPublished(
        bytes32 indexed datasetId,
        uint32 indexed version,
        bytes32 plaintextHash,
        bytes32 ciphertextHash,
        bytes32 schemaHash,
        uint64 size,
        bytes32 dpMetadataHash
    );
    /// @notice `version` of `datasetId` was derived from `sourceVersion` of `sourceDatasetId`.
    event VersionDerived(
        bytes32 indexed datasetId,
        uint32 indexed version,
        bytes32 indexed sourceDatasetId,
        uint32 sourceVersion,
        bytes32 profileHash,
        uint32 kAnonymity
    );
    /// @notice The owner changed the policy of `datasetId`.
    event PolicyChanged(bytes32 indexed datasetId, Policy policy);

    NodeRegistry private immutable _registry;
    mapping(bytes32 datasetId => Dataset) private _datasets;
    mapping(bytes32 datasetId => mapping(uint32 version => Version)) private _versions;
    mapping(bytes32 datasetId => mapping(uint32 version => Lineage)) private _lineage;

    /// @param registry_ The network's NodeRegistry.
    constructor(NodeRegistry registry_) {
        _registry = registry_;
    }

    /// @notice Creates a dataset owned by the caller; its id is keccak256(abi.encode(owner, name)).
    function createDataset(string calldata name, uint8 classification, Policy calldata policy)
        external
        returns (bytes32 datasetId)
    {
        _onlyProvider();
        uint256 len = bytes(name).length;
        if (len == 0 || len > 128) revert InvalidName();
        if (classification > MAX_CLASSIFICATION) revert InvalidClassification(classification);
        _checkPolicy(policy);
        datasetId = keccak256(abi.encode(msg.sender, name));
        if (_datasets[datasetId].owner != address(0)) revert DatasetExists(datasetId);
        Dataset storage d = _datasets[datasetId];
        d.owner = msg.sender;
        d.name = name;
        d.classification = classification;
        d.policy = policy;
        emit DatasetCreated(datasetId, msg.sender, name, classification, policy);
    }

    /// @notice Anchors a new version (its encrypted blob is already stored at the owner).
    /// @param dpMetadataHash SHA-256 of the version's canonical DP metadata (zero: none); the
    ///        owner's gate answers only with metadata of this hash.
    function publishVersion(
        bytes32 datasetId,
        bytes32 plaintextHash,
        bytes32 ciphertextHash,
        bytes32 schemaHash,
        uint64 size,
        bytes32 dpMetadataHash
    ) external returns (uint32 version) {
        return _publish(datasetId, plaintextHash, ciphertextHash, schemaHash, size, dpMetadataHash);
    }

    /// @notice Anchors a version derived from one of the caller's own versions (a
    ///         desensitized release), with its lineage: source, profile hash and k-anonymity.
    /// @param dpMetadataHash SHA-256 of the version's canonical DP metadata (zero: none).
    function publishDerivedVersion(
        bytes32 datasetId,
        bytes32 plaintextHash,
        bytes32 ciphertextHash,
        bytes32 schemaHash,
        uint64 size,
        bytes32 dpMetadataHash,
        Lineage calldata lineage
    ) external returns (uint32 version) {
        Dataset storage source = _owned(lineage.sourceDatasetId);
        if (lineage.sourceVersion == 0 || lineage.sourceVersion > source.versionCount) {
            revert UnknownVersion(lineage.sourceDatasetId, lineage.sourceVersion);
        }
        if (lineage.profileHash == bytes32(0)) revert InvalidHash();
        version = _publish(datasetId, plaintextHash, ciphertextHash, schemaHash, size, dpMetadataHash);
        _lineage[datasetId][version] = lineage;
        emit VersionDerived(
            datasetId,
            version,
            lineage.sourceDatasetId,
            lineage.sourceVersion,
            lineage.profileHash,
            lineage.kAnonymity
        );
    }

    /// @notice Replaces the access policy of a dataset the caller owns (an active provider:
    ///         a suspended owner changes nothing).
    /// @dev Reverts with `NotProvider` unless the caller is an active provider.
    function setPolicy(bytes32 datasetId, Policy calldata policy) external {
        Dataset storage d = _owned(datasetId);
        _onlyProvider();
        _checkPolicy(policy);
        d.policy = policy;
        emit PolicyChanged(datasetId, policy);
    }

    /// @notice The dataset `datasetId` (owner zero when unknown).
    function dataset(bytes32 datasetId) external view returns (Dataset memory) {
        return _datasets[datasetId];
    }

    /// @notice Owner and policy of `datasetId`; reverts when unknown.
    function ownerAndPolicy(bytes32 datasetId) external view returns (address, Policy memory) {
        Dataset storage d = _datasets[datasetId];
        if (d.owner == address(0)) revert UnknownDataset(datasetId);
        return (d.owner, d.policy);
    }

    /// @notice Version `version` of `datasetId`; reverts when unknown.
    function versionOf(bytes32 datasetId, uint32 version) external view returns (Version memory) {
        Dataset storage d = _datasets[datasetId];
        if (d.owner == address(0)) revert UnknownDataset(datasetId);
        if (version == 0 || version > d.versionCount) revert UnknownVersion(datasetId, version);
        return _versions[datasetId][version];
    }

    /// @notice The lineage of a version (all zero when it was not derived); reverts when unknown.
    function lineageOf(bytes32 datasetId, uint32 version) external view returns (Lineage memory) {
        Dataset storage d = _datasets[datasetId];
        if (d.owner == address(0)) revert UnknownDataset(datasetId);
        if (version == 0 || version > d.versionCount) revert UnknownVersion(datasetId, version);
        return _lineage[datasetId][version];
    }

    /// @notice The id a dataset named `name` of `owner` has.
    function datasetIdOf(address owner, string calldata name) external pure returns (bytes32) {
        return keccak256(abi.encode(owner, name));
    }

    /// @notice The registry this catalog trusts.
    function registry() external view returns (NodeRegistry) {
        return _registry;
    }

    function _publish(
        bytes32 datasetId,
        bytes32 plaintextHash,
        bytes32 ciphertextHash,
        bytes32 schemaHash,
        uint64 size,
        bytes32 dpMetadataHash
    ) private returns (uint32 version) {
        Dataset storage d = _owned(datasetId);
        _onlyProvider();
        if (plaintextHash == bytes32(0) || ciphertextHash == bytes32(0) || schemaHash == bytes32(0)) {
            revert InvalidHash();
        }
        version = ++d.versionCount;
        _versions[datasetId][version] = Version({
            plaintextHash: plaintextHash,
            ciphertextHash: ciphertextHash,
            schemaHash: schemaHash,
            size: size,
            publishedAt: uint64(block.timestamp),
            dpMetadataHash: dpMetadataHash
        });
        emit VersionPublished(datasetId, version, plaintextHash, ciphertextHash, schemaHash, size, dpMetadataHash);
    }

    function _owned(bytes32 datasetId) private view returns (Dataset storage d) {
        d = _datasets[datasetId];
        if (d.owner == address(0)) revert UnknownDataset(datasetId);
        if (d.owner != msg.sender) revert NotOwner(datasetId, msg.sender);
    }

    function _onlyProvider() private view {
        if (!_registry.hasRole(_registry.PROVIDER_ROLE(), msg.sender)) revert NotProvider(msg.sender);
    }

    function _checkPolicy(Policy calldata policy) private pure {
        if (policy.autoApproveRoles > 15) revert InvalidPolicy();
        // A policy must allow at least one use: raw release or a positive DP budget.
        if (!policy.rawAllowed && policy.epsilonCeilingMilli == 0) revert InvalidPolicy();
        // A grant draws on the lifetime budgets: one it could never spend in full is a mistake,
        // and a department's accounts together get at least what one of them may.
        if (policy.lifetimeEpsilonMilli < policy.epsilonCeilingMilli) revert InvalidPolicy();
        if (policy.departmentEpsilonMilli < policy.lifetimeEpsilonMilli) revert InvalidPolicy();
        if (policy.departmentDeltaNano < policy.lifetimeDeltaNano) revert InvalidPolicy();
    }
}
