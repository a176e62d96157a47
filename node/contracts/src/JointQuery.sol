// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessManager} from "./AccessManager.sol";
import {DataCatalog} from "./DataCatalog.sol";
import {NodeRegistry} from "./NodeRegistry.sol";

/// @title JointQuery
/// @notice Joint statistics over several departments' datasets, computed by the owners'
///         nodes with secure multi-party computation. A consumer proposes a query over its
///         DP grants (one dataset per owner) by its hash; each owner's preset policy admits it
///         at once or the owner decides; each owner joins the run, which spends its ε on its
///         grant (AccessManager.spendForJoint with the query's hash), with the
///         fingerprint of its run certificate, which binds the TLS key the parties pin to the
///         owner's registry entry, and with Pedersen commitments to its input (fixed at its
///         first join: every later run of the query must give the same ones); the consumer records the hash of the opened result and each
///         owner acknowledges it. A failed run (a party down) is recorded and can be retried:
///         its ε stays spent. Only hashes, pointers and decisions are stored.
contract JointQuery {
    /// @notice Life cycle of a joint query.
    enum State {
        None,
        Proposed,
        Admitted,
        Rejected,
        Completed
    }

    /// @notice One participating dataset, owner and grant.
    struct Participant {
        address owner;
        bytes32 datasetId;
        uint32 version;
        uint256 grantId;
        uint64 epsilonMilli;
        bool admitted;
        bool acknowledged;
        /// keccak256 of the packed commitments to the owner's input (zero before its first join)
        bytes32 inputDigest;
    }

    /// @notice A joint query; `attempt` counts its runs (a failed run raises it).
    struct Joint {
        address consumer;
        bytes32 queryHash;
        State state;
        bool noiseless;
        uint32 attempt;
        uint32 admittedCount;
        uint64 proposedAt;
        bytes32 resultHash;
    }

    /// @notice At most this many owners in one joint query.
    uint256 public constant MAX_PARTICIPANTS = 16;
    /// @notice At most this many commitments (64-byte points) to one owner's input.
    uint256 public constant MAX_INPUT_COMMITMENTS = 4096;

    /// @notice `account` is not an active member of the network.
    error NotActiveMember(address account);
    /// @notice Between 1 and MAX_PARTICIPANTS grants, with one ε each.
    error InvalidParticipants(uint256 grants, uint256 epsilons);
    /// @notice The grant is not a usable DP grant of the caller.
    error GrantNotUsable(uint256 grantId);
    /// @notice An owner appears with two grants.
    error DuplicateOwner(address owner);
    /// @notice ε asked on a grant is zero or above what the grant may still spend.
    error InvalidEpsilon(uint256 grantId, uint64 asked, uint64 remaining);
    /// @notice Noise off is for test chains only.
    error NoiselessNotAllowed();
    /// @notice No joint query `jointId`.
    error UnknownJoint(uint256 jointId);
    /// @notice The joint query is in `actual`, which this operation does not accept.
    error WrongState(uint256 jointId, State actual);
    /// @notice `account` is not a participating owner of `jointId`.
    error NotParticipant(uint256 jointId, address account);
    /// @notice Only the proposing consumer may do this.
    error NotConsumer(uint256 jointId, address account);
    /// @notice `account` already admitted or acknowledged.
    error AlreadyDone(uint256 jointId, address account);
    /// @notice `attempt` is not the current run of `jointId`.
    error WrongAttempt(uint256 jointId, uint32 attempt, uint32 current);
    /// @notice Party `pid` gave commitments that are not 1 to MAX_INPUT_COMMITMENTS points
    ///         (an owner) or gave some (the consumer, who inputs nothing).
    error InvalidInputCommitments(uint16 pid, uint256 bytesGiven);
    /// @notice A later run's commitments to `owner`'s input are not the ones of its first run.
    error InputChanged(uint256 jointId, address owner, bytes32 committed, bytes32 given);
    /// @notice The result hash acknowledged is not the one recorded.
    error ResultMismatch(uint256 jointId, bytes32 recorded, bytes32 given);

    /// @notice `consumer` proposed `jointId` over its DP grants `grantIds` (one per owner, in
    ///         the spec's input order), each owner to spend `epsilonMilli` on its grant.
    event JointProposed(
        uint256 indexed jointId,
        address indexed consumer,
        bytes32 queryHash,
        uint256[] grantIds,
        uint64[] epsilonMilli,
        bool noiseless
    );
    /// @notice `owner` admitted `jointId` (`automatic`: by its dataset's preset policy).
    event ParticipantAdmitted(uint256 indexed jointId, address indexed owner, bool automatic);
    /// @notice Every owner admitted `jointId`: it may run.
    event JointAdmitted(uint256 indexed jointId);
    /// @notice `owner` rejected `jointId`.
    event JointRejected(uint256 indexed jointId, address indexed owner, bytes32 reasonHash);
    /// @notice Party `pid` (0: the consumer, i + 1: participant i) joined run `attempt`
    ///         with the certificate of fingerprint `certHash`, listening on `endpoint`.
    event PartyJoined(
        uint256 indexed jointId, uint32 attempt, uint16 pid, address indexed account, bytes32 certHash, string endpoint
    );
    /// @notice `owner` (party `pid`) committed to its input of `jointId`: `count` Pedersen
    ///         commitments on BN254's G1, packed (x ‖ y, 32 bytes each) in `commitments`.
    event InputCommitted(
        uint256 indexed jointId, address indexed owner, uint16 pid, bytes32 digest, uint32 count, bytes commitments
    );
    /// @notice Run `attempt` failed (reported by `by`); its ε stays spent.
    event RunFailed(uint256 indexed jointId, uint32 attempt, address indexed by, bytes32 reasonHash);
    /// @notice The consumer recorded the hash of the opened result of run `attempt`.
    event JointCompleted(uint256 indexed jointId, uint32 attempt, bytes32 resultHash);
    /// @notice `owner` logged the result hash.
    event ResultAcknowledged(uint256 indexed jointId, address indexed owner, bytes32 resultHash);

    NodeRegistry private immutable _registry;
    DataCatalog private immutable _catalog;
    AccessManager private immutable _access;
    bool private immutable _testMode;
    uint256 private _count;
    mapping(uint256 jointId => Joint) private _joints;
    mapping(uint256 jointId => Participant[]) private _participants;
    mapping(uint256 jointId => mapping(uint32 attempt => mapping(uint16 pid => bytes32))) private _certs;

    /// @param registry_ The network's NodeRegistry.
    /// @param catalog_ The network's DataCatalog.
    /// @param access_ The network's AccessManager (the grants whose ε is spent).
    /// @param testMode_ Whether noiseless runs are allowed (test chains only).
    constructor(NodeRegistry registry_, DataCatalog catalog_, AccessManager access_, bool testMode_) {
        _registry = registry_;
        _catalog = catalog_;
        _access = access_;
        _testMode = testMode_;
    }

    /// @notice Proposes a joint query over the caller's DP grants; returns its id.
    /// @dev Participants whose dataset's preset policy auto-approves the caller's roles are
    ///      admitted at once. Reverts `GrantNotUsable`, `DuplicateOwner`, `InvalidEpsilon`,
    ///      `NoiselessNotAllowed`.
    /// @param queryHash SHA-256 of the canonical query spec (kept off chain by the parties).
    /// @param grantIds The caller's DP grants, one per owner, in the spec's input order.
    /// @param epsilonMilli ε each owner spends on its grant, in 1/1000.
    /// @param noiseless No DP noise: refused unless the contract was deployed for tests.
    function propose(bytes32 queryHash, uint256[] calldata grantIds, uint64[] calldata epsilonMilli, bool noiseless)
        external
        returns (uint256 jointId)
    {
        uint8 roles = _registry.activeRolesOf(msg.sender);
        if (roles == 0) revert NotActiveMember(msg.sender);
        uint256 n = grantIds.length;
        if (n == 0 || n > MAX_PARTICIPANTS || epsilonMilli.length != n) {
            revert InvalidParticipants(n, epsilonMilli.length);
        }
        if (noiseless && !_testMode) revert NoiselessNotAllowed();
        jointId = ++_count;
        Joint storage j = _joints[jointId];
        j.consumer = msg.sender;
        j.queryHash = queryHash;
        j.state = State.Proposed;
        j.noiseless = noiseless;
        j.proposedAt = uint64(block.timestamp);
        emit JointProposed(jointId, msg.sender, queryHash, grantIds, epsilonMilli, noiseless);
        for (uint256 i; i < n; ++i) {
            _addParticipant(jointId, grantIds[i], epsilonMilli[i], roles);
        }
        if (j.admittedCount == n) _admitted(jointId);
    }

    /// @notice Admits `jointId` as one of its owners.
    function admit(uint256 jointId) external {
        Joint storage j = _inState(jointId, State.Proposed);
        Participant storage p = _participantOf(jointId, msg.sender);
        if (!_registry.isActive(msg.sender)) revert NotActiveMember(msg.sender);
        if (p.admitted) revert AlreadyDone(jointId, msg.sender);
        p.admitted = true;
        ++j.admittedCount;
        emit ParticipantAdmitted(jointId, msg.sender, false);
        if (j.admittedCount == _participants[jointId].length) _admitted(jointId);
    }

    /// @notice Rejects `jointId` as one of its owners; it never runs.
    /// @param reasonHash Hash of the written reason (kept off chain).
    function reject(uint256 jointId, bytes32 reasonHash) external {
        Joint storage j = _inState(jointId, State.Proposed);
        _participantOf(jointId, msg.sender);
        j.state = State.Rejected;
        emit JointRejected(jointId, msg.sender, reasonHash);
    }

    /// @notice Joins run `attempt` of an admitted query as party `pid` with the fingerprint
    ///         of the run certificate and the endpoint the party listens on.
    /// @dev pid 0 is the consumer; pid i + 1 the owner of participant i. An owner's join
    ///      spends its entry's ε on its grant with the query's hash (AccessManager.spendForJoint,
    ///      reverting past any budget), in the same transaction.
    /// @param inputCommitments Empty for the consumer; for an owner, its commitments to its
    ///        input (64 bytes each), recorded at its first join and required unchanged after.
    function join(
        uint256 jointId,
        uint32 attempt,
        uint16 pid,
        bytes32 certHash,
        string calldata endpoint,
        bytes calldata inputCommitments
    ) external {
        Joint storage j = _inState(jointId, State.Admitted);
        if (attempt != j.attempt) revert WrongAttempt(jointId, attempt, j.attempt);
        address expected = pid == 0
            ? j.consumer
            : (pid <= _participants[jointId].length ? _participants[jointId][pid - 1].owner : address(0));
        if (msg.sender != expected) revert NotParticipant(jointId, msg.sender);
        if (_certs[jointId][attempt][pid] != bytes32(0)) revert AlreadyDone(jointId, msg.sender);
        if (pid == 0 && inputCommitments.length != 0) revert InvalidInputCommitments(0, inputCommitments.length);
        _certs[jointId][attempt][pid] = certHash;
        if (pid != 0) _ownerJoins(jointId, attempt, pid, j.queryHash, inputCommitments);
        emit PartyJoined(jointId, attempt, pid, msg.sender, certHash, endpoint);
    }

    function _ownerJoins(
        uint256 jointId,
        uint32 attempt,
        uint16 pid,
        bytes32 queryHash,
        bytes calldata inputCommitments
    ) private {
        uint256 n = inputCommitments.length / 64;
        if (inputCommitments.length % 64 != 0 || n == 0 || n > MAX_INPUT_COMMITMENTS) {
            revert InvalidInputCommitments(pid, inputCommitments.length);
        }
        Participant storage p = _participants[jointId][pid - 1];
        // the owner's ε is spent on its grant in this transaction, before any output exists
        _access.spendForJoint(
            p.grantId, msg.sender, p.epsilonMilli, queryHash, keccak256(abi.encodePacked(jointId, attempt))
        );
        bytes32 digest = keccak256(inputCommitments);
        if (p.inputDigest == bytes32(0)) {
            p.inputDigest = digest;
            emit InputCommitted(jointId, msg.sender, pid, digest, uint32(n), inputCommitments);
        } else if (p.inputDigest != digest) {
            revert InputChanged(jointId, msg.sender, p.inputDigest, digest);
        }
    }

    /// @notice Records that run `attempt` failed; the next run is `attempt + 1`.
    /// @param reasonHash Hash of the failure's description.
    function fail(uint256 jointId, uint32 attempt, bytes32 reasonHash) external {
        Joint storage j = _inState(jointId, State.Admitted);
        if (msg.sender != j.consumer) _participantOf(jointId, msg.sender);
        if (attempt != j.attempt) revert WrongAttempt(jointId, attempt, j.attempt);
        ++j.attempt;
        emit RunFailed(jointId, attempt, msg.sender, reasonHash);
    }

    /// @notice The consumer records the hash of the result it received from run `attempt`.
    function complete(uint256 jointId, uint32 attempt, bytes32 resultHash) external {
        Joint storage j = _inState(jointId, State.Admitted);
        if (msg.sender != j.consumer) revert NotConsumer(jointId, msg.sender);
        if (attempt != j.attempt) revert WrongAttempt(jointId, attempt, j.attempt);
        j.state = State.Completed;
        j.resultHash = resultHash;
        emit JointCompleted(jointId, attempt, resultHash);
    }

    /// @notice An owner logs the result hash of a completed query.
    function acknowledge(uint256 jointId, bytes32 resultHash) external {
        Joint storage j = _inState(jointId, State.Completed);
        Participant storage p = _participantOf(jointId, msg.sender);
        if (p.acknowledged) revert AlreadyDone(jointId, msg.sender);
        if (resultHash != j.resultHash) revert ResultMismatch(jointId, j.resultHash, resultHash);
        p.acknowledged = true;
        emit ResultAcknowledged(jointId, msg.sender, resultHash);
    }

    /// @notice The joint query `jointId`; reverts when unknown.
    function joint(uint256 jointId) external view returns (Joint memory) {
        return _existing(jointId);
    }

    /// @notice The participants of `jointId`, in the spec's input order.
    function participants(uint256 jointId) external view returns (Participant[] memory) {
        _existing(jointId);
        return _participants[jointId];
    }

    /// @notice The certificate fingerprint party `pid` announced for run `attempt`.
    function certOf(uint256 jointId, uint32 attempt, uint16 pid) external view returns (bytes32) {
        return _certs[jointId][attempt][pid];
    }

    /// @notice The certificate fingerprints of run `attempt`, party 0 (the consumer) first;
    ///         zero for a party that has not joined.
    function certsOf(uint256 jointId, uint32 attempt) external view returns (bytes32[] memory certs) {
        uint256 n = _participants[jointId].length;
        certs = new bytes32[](n + 1);
        for (uint256 pid; pid <= n; ++pid) {
            certs[pid] = _certs[jointId][attempt][uint16(pid)];
        }
    }

    /// @notice Number of joint queries ever proposed.
    function jointCount() external view returns (uint256) {
        return _count;
    }

    /// @notice Whether noiseless runs are allowed (a test deployment).
    function testMode() external view returns (bool) {
        return _testMode;
    }

    function _addParticipant(uint256 jointId, uint256 grantId, uint64 epsilonMilli, uint8 roles) private {
        if (!_access.isUsable(grantId)) revert GrantNotUsable(grantId);
        AccessManager.Request memory r = _access.request(grantId);
        if (r.consumer != msg.sender || r.mode != AccessManager.Mode.Dp) revert GrantNotUsable(grantId);
        Participant[] storage ps = _participants[jointId];
        for (uint256 k; k < ps.length; ++k) {
            if (ps[k].owner == r.owner) revert DuplicateOwner(r.owner);
        }
        (uint64 remaining,) = _access.remainingOf(grantId);
        if (epsilonMilli == 0 || epsilonMilli > remaining) revert InvalidEpsilon(grantId, epsilonMilli, remaining);
        (, DataCatalog.Policy memory policy) = _catalog.ownerAndPolicy(r.datasetId);
        bool automatic = roles & policy.autoApproveRoles != 0;
        ps.push(
            Participant({
                owner: r.owner,
                datasetId: r.datasetId,
                version: r.version,
                grantId: grantId,
                epsilonMilli: epsilonMilli,
                admitted: automatic,
                acknowledged: false,
                inputDigest: bytes32(0)
            })
        );
        if (automatic) {
            ++_joints[jointId].admittedCount;
            emit ParticipantAdmitted(jointId, r.owner, true);
        }
    }

    function _admitted(uint256 jointId) private {
        _joints[jointId].state = State.Admitted;
        emit JointAdmitted(jointId);
    }

    function _existing(uint256 jointId) private view returns (Joint storage j) {
        j = _joints[jointId];
        if (j.state == State.None) revert UnknownJoint(jointId);
    }

    function _inState(uint256 jointId, State wanted) private view returns (Joint storage j) {
        j = _existing(jointId);
        if (j.state != wanted) revert WrongState(jointId, j.state);
    }

    function _participantOf(uint256 jointId, address account) private view returns (Participant storage) {
        Participant[] storage ps = _participants[jointId];
        for (uint256 k; k < ps.length; ++k) {
            if (ps[k].owner == account) return ps[k];
        }
        revert NotParticipant(jointId, account);
    }
}
