// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {NodeRegistry} from "./NodeRegistry.sol";

/// @title DataCatalog
/// @notice The datasets of the network: who owns each, its access policy, the hashes of
///         every published version, its quality record (declared schema, validation result,
///         review cycle and reviews), its catalog entry (theme and metadata hash) and the
///         feedback consumers file on it. Only hashes, sizes, counts and decisions are
///         stored: the data, metadata and feedback texts stay at the owner's node.
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

    /// @notice How a version was checked against its declared Table Schema at publish.
    /// @param tableSchemaHash SHA-256 of the declared (Frictionless) Table Schema.
    /// @param reportHash SHA-256 of the canonical validation report.
    /// @param errorCount Errors the report holds (0: the file passed).
    struct Validation {
        bytes32 tableSchemaHash;
        bytes32 reportHash;
        uint32 errorCount;
    }

    /// @notice How often a dataset is updated and re-checked, in seconds (0: no cycle).
    struct ReviewCycle {
        uint64 updateInterval;
        uint64 reviewPeriod;
    }

    /// @notice Feedback states: open, answered by the owner, resolved.
    enum FeedbackState {
        None,
        Open,
        Answered,
        Resolved
    }

    /// @notice A quality issue filed on a version. `filer` is zero for anonymous feedback,
    ///         which carries the key image of its linkable ring signature instead.
    struct Feedback {
        bytes32 datasetId;
        uint32 version;
        uint8 category;
        FeedbackState state;
        address filer;
        bytes32 textHash;
        bytes32 keyImage;
        bytes32 answerHash;
        uint32 correctedVersion;
    }

    /// @notice Classification levels: 0 public, 1 internal, 2 sensitive, 3 restricted.
    uint8 public constant MAX_CLASSIFICATION = 3;
    /// @notice Themes (the ledger's subdirectories): 0 energy, 1 emissions, 2 environment,
    ///         3 transport, 4 buildings, 5 socioeconomic, 6 spatial, 7 others.
    uint8 public constant MAX_THEME = 7;
    /// @notice Feedback categories: 0 accuracy, 1 completeness, 2 timeliness, 3 consistency,
    ///         4 format, 5 other.
    uint8 public constant MAX_CATEGORY = 5;
    /// @notice Longest error-kind summary a validation event carries, in bytes.
    uint256 public constant MAX_KINDS_BYTES = 256;

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
    /// @notice Theme above MAX_THEME.
    error InvalidTheme(uint8 theme);
    /// @notice Category above MAX_CATEGORY.
    error InvalidCategory(uint8 category);
    /// @notice An error-kind summary over MAX_KINDS_BYTES, or kinds given for a clean file.
    error InvalidKinds();
    /// @notice Reviews check the current version; `version` is not `latest`.
    error NotLatestVersion(bytes32 datasetId, uint32 version, uint32 latest);
    /// @notice `account` is not an active member of the registry.
    error NotMember(address account);
    /// @notice Feedback `feedbackId` does not exist.
    error UnknownFeedback(uint256 feedbackId);
    /// @notice Feedback `feedbackId` is `state`, which does not allow the change.
    error WrongFeedbackState(uint256 feedbackId, FeedbackState state);
    /// @notice The ring member behind `keyImage` already filed on this version.
    error KeyImageUsed(bytes32 datasetId, uint32 version, bytes32 keyImage);
    /// @notice `correctedVersion` is not a later version than the one feedback was filed on.
    error NotACorrection(uint256 feedbackId, uint32 correctedVersion);
    /// @notice Only the dataset's owner, or the named filer once it is answered, may do this.
    error NotFeedbackParty(uint256 feedbackId, address account);

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
    /// @notice `version` was checked against its declared Table Schema before it was
    ///         published; `errorKinds` ("constraint-error=3;type-error=1") when it failed.
    event VersionValidated(
        bytes32 indexed datasetId,
        uint32 indexed version,
        bytes32 tableSchemaHash,
        bytes32 reportHash,
        uint32 errorCount,
        string errorKinds
    );
    /// @notice The owner re-checked `version` on its review cycle.
    event VersionReviewed(
        bytes32 indexed datasetId, uint32 indexed version, bytes32 reportHash, uint32 errorCount
    );
    /// @notice The owner set the update interval and review period of `datasetId`.
    event ReviewCycleSet(bytes32 indexed datasetId, uint64 updateInterval, uint64 reviewPeriod);
    /// @notice The owner filed `datasetId` under `theme` with metadata of hash `metadataHash`.
    event MetadataSet(bytes32 indexed datasetId, uint8 indexed theme, bytes32 metadataHash);
    /// @notice `account` registered the ed25519 key it signs anonymous feedback rings with.
    event FeedbackKeySet(address indexed account, bytes32 key);
    /// @notice Feedback `feedbackId` was filed on `version` of `datasetId` by `filer` (zero:
    ///         anonymous, relayed by the owner, with the ring signature's key image and the
    ///         hash of the ring and signature).
    event FeedbackFiled(
        uint256 indexed feedbackId,
        bytes32 indexed datasetId,
        uint32 version,
        uint8 category,
        address filer,
        bytes32 textHash,
        bytes32 keyImage,
        bytes32 ringHash
    );
    /// @notice The owner answered feedback `feedbackId` (answer text of hash `answerHash`).
    event FeedbackAnswered(uint256 indexed feedbackId, bytes32 answerHash);
    /// @notice Feedback `feedbackId` was resolved by `by`, with `correctedVersion` (0: none).
    event FeedbackResolved(uint256 indexed feedbackId, uint32 correctedVersion, address by);

    NodeRegistry private immutable _registry;
    mapping(bytes32 datasetId => Dataset) private _datasets;
    mapping(bytes32 datasetId => mapping(uint32 version => Version)) private _versions;
    mapping(bytes32 datasetId => mapping(uint32 version => Lineage)) private _lineage;
    mapping(bytes32 datasetId => mapping(uint32 version => Validation)) private _validation;
    mapping(bytes32 datasetId => ReviewCycle) private _cycles;
    mapping(bytes32 datasetId => uint64) private _reviewedAt;
    mapping(bytes32 datasetId => uint8) private _themes;
    mapping(bytes32 datasetId => bytes32) private _metadataHashes;
    mapping(address account => bytes32) private _feedbackKeys;
    mapping(uint256 feedbackId => Feedback) private _feedback;
    mapping(bytes32 datasetId => mapping(uint32 version => mapping(bytes32 keyImage => bool)))
        private _keyImages;
    uint256 private _feedbackCount;

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

    /// @notice Anchors a new version checked against its declared Table Schema, with the
    ///         validation's result, in one transaction (no version without its record).
    /// @param validation Schema and report hashes and the report's error count.
    /// @param errorKinds The error counts by kind, empty when the file passed.
    function publishValidatedVersion(
        bytes32 datasetId,
        bytes32 plaintextHash,
        bytes32 ciphertextHash,
        bytes32 schemaHash,
        uint64 size,
        bytes32 dpMetadataHash,
        Validation calldata validation,
        string calldata errorKinds
    ) external returns (uint32 version) {
        if (validation.tableSchemaHash == bytes32(0) || validation.reportHash == bytes32(0)) {
            revert InvalidHash();
        }
        uint256 kinds = bytes(errorKinds).length;
        if (kinds > MAX_KINDS_BYTES || (validation.errorCount == 0) != (kinds == 0)) {
            revert InvalidKinds();
        }
        version = _publish(datasetId, plaintextHash, ciphertextHash, schemaHash, size, dpMetadataHash);
        _validation[datasetId][version] = validation;
        emit VersionValidated(
            datasetId,
            version,
            validation.tableSchemaHash,
            validation.reportHash,
            validation.errorCount,
            errorKinds
        );
    }

    /// @notice Records the owner's scheduled re-check of the current version.
    /// @param reportHash SHA-256 of the re-check's canonical report.
    /// @param errorCount Errors the re-check found.
    function recordReview(bytes32 datasetId, uint32 version, bytes32 reportHash, uint32 errorCount)
        external
    {
        Dataset storage d = _owned(datasetId);
        _onlyProvider();
        if (version != d.versionCount) revert NotLatestVersion(datasetId, version, d.versionCount);
        if (reportHash == bytes32(0)) revert InvalidHash();
        _reviewedAt[datasetId] = uint64(block.timestamp);
        emit VersionReviewed(datasetId, version, reportHash, errorCount);
    }

    /// @notice Sets how often `datasetId` is updated and how often its current version must
    ///         be re-checked (seconds; 0: no review cycle).
    function setReviewCycle(bytes32 datasetId, uint64 updateInterval, uint64 reviewPeriod) external {
        _owned(datasetId);
        _onlyProvider();
        _cycles[datasetId] = ReviewCycle(updateInterval, reviewPeriod);
        emit ReviewCycleSet(datasetId, updateInterval, reviewPeriod);
    }

    /// @notice Files `datasetId` under `theme`, with the hash of its catalog metadata.
    function setMetadata(bytes32 datasetId, uint8 theme, bytes32 metadataHash) external {
        _owned(datasetId);
        _onlyProvider();
        if (theme > MAX_THEME) revert InvalidTheme(theme);
        if (metadataHash == bytes32(0)) revert InvalidHash();
        _themes[datasetId] = theme;
        _metadataHashes[datasetId] = metadataHash;
        emit MetadataSet(datasetId, theme, metadataHash);
    }

    /// @notice Registers the caller's ed25519 public key for anonymous feedback rings.
    function setFeedbackKey(bytes32 key) external {
        _onlyMember();
        if (key == bytes32(0)) revert InvalidHash();
        _feedbackKeys[msg.sender] = key;
        emit FeedbackKeySet(msg.sender, key);
    }

    /// @notice Files a quality issue on `version` of `datasetId` under the caller's name.
    /// @param textHash SHA-256 of the text, which the owner's node keeps.
    function fileFeedback(bytes32 datasetId, uint32 version, uint8 category, bytes32 textHash)
        external
        returns (uint256 feedbackId)
    {
        _onlyMember();
        return _file(datasetId, version, category, msg.sender, textHash, bytes32(0), bytes32(0));
    }

    /// @notice Files anonymous feedback the owner's node received with a linkable ring
    ///         signature it verified; one filing per ring member (key image) and version.
    /// @param keyImage The signature's key image (the same for every filing of one member).
    /// @param ringHash SHA-256 of the ring and the signature, which the owner's node keeps.
    function fileAnonymousFeedback(
        bytes32 datasetId,
        uint32 version,
        uint8 category,
        bytes32 textHash,
        bytes32 keyImage,
        bytes32 ringHash
    ) external returns (uint256 feedbackId) {
        _owned(datasetId);
        _onlyProvider();
        if (keyImage == bytes32(0) || ringHash == bytes32(0)) revert InvalidHash();
        if (_keyImages[datasetId][version][keyImage]) revert KeyImageUsed(datasetId, version, keyImage);
        _keyImages[datasetId][version][keyImage] = true;
        return _file(datasetId, version, category, address(0), textHash, keyImage, ringHash);
    }

    /// @notice The owner answers open feedback (answer text of hash `answerHash`).
    function answerFeedback(uint256 feedbackId, bytes32 answerHash) external {
        Feedback storage f = _feedbackOf(feedbackId);
        _owned(f.datasetId);
        if (f.state != FeedbackState.Open) revert WrongFeedbackState(feedbackId, f.state);
        if (answerHash == bytes32(0)) revert InvalidHash();
        f.state = FeedbackState.Answered;
        f.answerHash = answerHash;
        emit FeedbackAnswered(feedbackId, answerHash);
    }

    /// @notice Resolves feedback: the owner with a corrected later version (open or
    ///         answered), or the named filer accepting the answer (`correctedVersion` 0).
    function resolveFeedback(uint256 feedbackId, uint32 correctedVersion) external {
        Feedback storage f = _feedbackOf(feedbackId);
        Dataset storage d = _datasets[f.datasetId];
        if (f.state != FeedbackState.Open && f.state != FeedbackState.Answered) {
            revert WrongFeedbackState(feedbackId, f.state);
        }
        if (msg.sender == d.owner && correctedVersion != 0) {
            if (correctedVersion <= f.version || correctedVersion > d.versionCount) {
                revert NotACorrection(feedbackId, correctedVersion);
            }
        } else if (
            !(msg.sender == f.filer && correctedVersion == 0 && f.state == FeedbackState.Answered)
        ) {
            revert NotFeedbackParty(feedbackId, msg.sender);
        }
        f.state = FeedbackState.Resolved;
        f.correctedVersion = correctedVersion;
        emit FeedbackResolved(feedbackId, correctedVersion, msg.sender);
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

    /// @notice The validation record of a version (all zero: published without a declared
    ///         schema); reverts when unknown.
    function validationOf(bytes32 datasetId, uint32 version) external view returns (Validation memory) {
        Dataset storage d = _datasets[datasetId];
        if (d.owner == address(0)) revert UnknownDataset(datasetId);
        if (version == 0 || version > d.versionCount) revert UnknownVersion(datasetId, version);
        return _validation[datasetId][version];
    }

    /// @notice The review cycle of `datasetId`, when it was last reviewed, and when its next
    ///         review is due (0: no cycle). Publishing a version counts as its review.
    function reviewStatus(bytes32 datasetId)
        external
        view
        returns (ReviewCycle memory cycle, uint64 reviewedAt, uint64 dueAt)
    {
        Dataset storage d = _datasets[datasetId];
        if (d.owner == address(0)) revert UnknownDataset(datasetId);
        cycle = _cycles[datasetId];
        reviewedAt = _reviewedAt[datasetId];
        if (d.versionCount > 0) {
            uint64 published = _versions[datasetId][d.versionCount].publishedAt;
            if (published > reviewedAt) reviewedAt = published;
        }
        dueAt = cycle.reviewPeriod == 0 || reviewedAt == 0 ? 0 : reviewedAt + cycle.reviewPeriod;
    }

    /// @notice The theme and metadata hash of `datasetId` (hash zero: none set).
    function metadataOf(bytes32 datasetId) external view returns (uint8 theme, bytes32 metadataHash) {
        return (_themes[datasetId], _metadataHashes[datasetId]);
    }

    /// @notice The feedback key `account` registered (zero: none).
    function feedbackKeyOf(address account) external view returns (bytes32) {
        return _feedbackKeys[account];
    }

    /// @notice Feedback `feedbackId`; reverts when unknown.
    function feedback(uint256 feedbackId) external view returns (Feedback memory) {
        return _feedbackOf(feedbackId);
    }

    /// @notice How many feedbacks were filed (ids run from 1).
    function feedbackCount() external view returns (uint256) {
        return _feedbackCount;
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

    function _file(
        bytes32 datasetId,
        uint32 version,
        uint8 category,
        address filer,
        bytes32 textHash,
        bytes32 keyImage,
        bytes32 ringHash
    ) private returns (uint256 feedbackId) {
        Dataset storage d = _datasets[datasetId];
        if (d.owner == address(0)) revert UnknownDataset(datasetId);
        if (version == 0 || version > d.versionCount) revert UnknownVersion(datasetId, version);
        if (category > MAX_CATEGORY) revert InvalidCategory(category);
        if (textHash == bytes32(0)) revert InvalidHash();
        feedbackId = ++_feedbackCount;
        _feedback[feedbackId] = Feedback({
            datasetId: datasetId,
            version: version,
            category: category,
            state: FeedbackState.Open,
            filer: filer,
            textHash: textHash,
            keyImage: keyImage,
            answerHash: bytes32(0),
            correctedVersion: 0
        });
        emit FeedbackFiled(feedbackId, datasetId, version, category, filer, textHash, keyImage, ringHash);
    }

    function _feedbackOf(uint256 feedbackId) private view returns (Feedback storage f) {
        f = _feedback[feedbackId];
        if (f.state == FeedbackState.None) revert UnknownFeedback(feedbackId);
    }

    function _onlyMember() private view {
        if (!_registry.isActive(msg.sender)) revert NotMember(msg.sender);
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
