// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {DataCatalog} from "./DataCatalog.sol";
import {NodeRegistry} from "./NodeRegistry.sol";

/// @title AccessManager
/// @notice Data application -> authorization -> release. A consumer applies for one version
///         of a dataset; the owner's preset policy authorizes it at once or it waits for the
///         owner and the required reviewers; for raw access the owner then releases the data
///         key sealed to the consumer's registered X25519 key; the owner or a regulator may
///         revoke; every grant expires. Only hashes, decisions and wrapped keys are stored.
/// @dev Reviewers are active members holding the PROVIDER role, other than the request's
///      owner and consumer: peers who hold data themselves judge a request for data.
///      Regulators do not review: they approve members, revoke grants and audit every
///      approval afterwards (the audit flags any other approver as `non_reviewer_approval`),
///      so they never audit their own decisions.
contract AccessManager {
    /// @notice RAW: a decrypted copy; DP: differentially private queries only.
    enum Mode {
        Raw,
        Dp
    }

    /// @notice Life cycle of a request.
    enum State {
        None,
        Pending,
        Authorized,
        Rejected,
        Released,
        Revoked
    }

    /// @notice One application and what became of it.
    struct Request {
        bytes32 datasetId;
        uint32 version;
        address consumer;
        address owner;
        Mode mode;
        State state;
        uint64 epsilonMilli;
        uint64 duration;
        uint64 createdAt;
        uint64 expiresAt;
        bytes32 purposeHash;
        uint8 approvals;
        bool ownerApproved;
    }

    /// @notice What one consumer account, or one department, spent on one dataset over all
    ///         its grants: ε in 1/1000, δ in 1e-9.
    struct Spent {
        uint64 epsilonMilli;
        uint64 deltaNano;
    }

    /// @notice The lifetime budgets a DP grant of a consumer on a dataset draws from, beside
    ///         its own ceiling: the account's and its department's (across all the
    ///         department's accounts), ceilings from the dataset's current policy.
    struct LifetimeBudget {
        address department;
        uint64 accountCeilingMilli;
        uint64 accountSpentMilli;
        uint64 accountCeilingNano;
        uint64 accountSpentNano;
        uint64 departmentCeilingMilli;
        uint64 departmentSpentMilli;
        uint64 departmentCeilingNano;
        uint64 departmentSpentNano;
    }

    uint64 public constant MIN_DURATION = 60;
    uint64 public constant MAX_DURATION = 366 days;
    uint256 public constant SEALED_KEY_LENGTH = 80; // 32-byte data key in a sealed box

    /// @notice The caller lacks the role the requested mode needs, or is not active.
    error NotEligible(address account, Mode mode);
    /// @notice Owners do not apply for their own data.
    error SelfRequest(address account);
    /// @notice The dataset does not allow raw release.
    error RawNotAllowed(bytes32 datasetId);
    /// @notice ε asked is zero for DP, non-zero for RAW, or above the dataset's ceiling.
    error InvalidEpsilon(uint64 asked, uint64 ceiling);
    /// @notice Duration outside [MIN_DURATION, MAX_DURATION].
    error InvalidDuration(uint64 duration);
    /// @notice No request `requestId`.
    error UnknownRequest(uint256 requestId);
    /// @notice The request is in `actual`, which this operation does not accept.
    error WrongState(uint256 requestId, State actual);
    /// @notice `account` may not decide on this request.
    error NotDecider(uint256 requestId, address account);
    /// @notice `account` is not an active member (suspended, pending or unknown): a
    ///         suspended owner decides nothing on its datasets' requests.
    error NotActiveMember(address account);
    /// @notice `account` already approved this request.
    error AlreadyApproved(uint256 requestId, address account);
    /// @notice The grant ran out at `expiresAt`.
    error Expired(uint256 requestId, uint64 expiresAt);
    /// @notice Only RAW grants have keys to release.
    error NotRaw(uint256 requestId);
    /// @notice The key was sealed to `used`, but the consumer's registered key is `registered`.
    error StaleConsumerKey(bytes32 used, bytes32 registered);
    /// @notice A sealed data key must be SEALED_KEY_LENGTH bytes.
    error InvalidWrappedKey(uint256 length);
    /// @notice Spending `asked` would take the grant past its ceiling; `remaining` is left.
    error BudgetExceeded(uint256 requestId, uint64 asked, uint64 remaining);
    /// @notice Spending would take `account` past its lifetime budget on `datasetId` (over all
    ///         its grants); `remainingMilli` ε and `remainingNano` δ are left.
    error LifetimeBudgetExceeded(
        address account,
        bytes32 datasetId,
        uint64 askedMilli,
        uint64 remainingMilli,
        uint64 askedNano,
        uint64 remainingNano
    );
    /// @notice Spending would take `department` (all its accounts together) past its lifetime
    ///         budget on `datasetId`; `remainingMilli` ε and `remainingNano` δ are left.
    error DepartmentBudgetExceeded(
        address department,
        bytes32 datasetId,
        uint64 askedMilli,
        uint64 remainingMilli,
        uint64 askedNano,
        uint64 remainingNano
    );
    /// @notice Only DP grants carry a privacy budget.
    error NotDp(uint256 requestId);
    /// @notice The grant is not usable now (not authorized, expired, revoked, or a party
    ///         is not active).
    error NotUsable(uint256 requestId);
    /// @notice `caller` is not the network's JointQuery contract.
    error NotJointContract(address caller);

    /// @notice `consumer` applied for `version` of `datasetId` (request `requestId`).
    event AccessRequested(
        uint256 indexed requestId,
        bytes32 indexed datasetId,
        address indexed consumer,
        uint32 version,
        Mode mode,
        uint64 epsilonMilli,
        uint64 duration,
        bytes32 purposeHash
    );
    /// @notice `approver` approved; `approvals` reviewer approvals so far.
    event AccessApproved(uint256 indexed requestId, address indexed approver, bool isOwner, uint8 approvals);
    /// @notice The request is authorized until `expiresAt` (`automatic`: by preset policy).
    event AccessAuthorized(uint256 indexed requestId, bool automatic, uint64 expiresAt);
    /// @notice The owner rejected the request.
    event AccessRejected(uint256 indexed requestId, address indexed by, bytes32 reasonHash);
    /// @notice The owner released the data key sealed to `consumerKey`.
    event KeyReleased(uint256 indexed requestId, bytes32 consumerKey, bytes wrappedKey);
    /// @notice The grant was revoked by `by`.
    event AccessRevoked(uint256 indexed requestId, address indexed by, bytes32 reasonHash);
    /// @notice The owner's node answered a DP query of the grant, paying `epsilonMilli`
    ///         (and `deltaNano` of δ); `spentMilli` is the grant's total so far.
    event BudgetSpent(
        uint256 indexed requestId,
        uint64 epsilonMilli,
        uint64 deltaNano,
        uint64 spentMilli,
        bytes32 queryHash,
        bytes32 resultHash
    );

    NodeRegistry private immutable _registry;
    DataCatalog private immutable _catalog;
    uint256 private _count;
    mapping(uint256 requestId => Request) private _requests;
    mapping(uint256 requestId => mapping(address => bool)) private _approvedBy;
    mapping(uint256 requestId => bytes) private _wrappedKeys;
    mapping(uint256 requestId => bytes32) private _wrappedFor;
    mapping(uint256 requestId => uint64) private _spentMilli;
    mapping(address consumer => mapping(bytes32 datasetId => Spent)) private _accountSpent;
    mapping(address department => mapping(bytes32 datasetId => Spent)) private _departmentSpent;

    /// @param registry_ The network's NodeRegistry.
    /// @param catalog_ The network's DataCatalog.
    constructor(NodeRegistry registry_, DataCatalog catalog_) {
        _registry = registry_;
        _catalog = catalog_;
    }

    /// @notice Applies for `version` of `datasetId`; returns the request id (`apply` is reserved in Solidity).
    /// @param purposeHash Hash of the written purpose (kept off chain by the consumer).
    /// @param epsilonMilli DP budget asked, in 1/1000 of ε (zero for RAW).
    /// @param duration Seconds the grant lasts once authorized.
    function applyFor(
        bytes32 datasetId,
        uint32 version,
        bytes32 purposeHash,
        Mode mode,
        uint64 epsilonMilli,
        uint64 duration
    ) external returns (uint256 requestId) {
        uint8 roles = _registry.activeRolesOf(msg.sender);
        // RAW needs CONSUMER; DP needs CONSUMER or ANALYST.
        uint8 needed = mode == Mode.Raw ? 2 : 6;
        if (roles & needed == 0) revert NotEligible(msg.sender, mode);
        (address owner, DataCatalog.Policy memory policy) = _catalog.ownerAndPolicy(datasetId);
        if (owner == msg.sender) revert SelfRequest(msg.sender);
        _catalog.versionOf(datasetId, version); // reverts on an unknown version
        if (mode == Mode.Raw) {
            if (!policy.rawAllowed) revert RawNotAllowed(datasetId);
            if (epsilonMilli != 0) revert InvalidEpsilon(epsilonMilli, 0);
        } else if (epsilonMilli == 0 || epsilonMilli > policy.epsilonCeilingMilli) {
            revert InvalidEpsilon(epsilonMilli, policy.epsilonCeilingMilli);
        }
        if (duration < MIN_DURATION || duration > MAX_DURATION) revert InvalidDuration(duration);
        requestId = ++_count;
        _requests[requestId] = Request({
            datasetId: datasetId,
            version: version,
            consumer: msg.sender,
            owner: owner,
            mode: mode,
            state: State.Pending,
            epsilonMilli: epsilonMilli,
            duration: duration,
            createdAt: uint64(block.timestamp),
            expiresAt: 0,
            purposeHash: purposeHash,
            approvals: 0,
            ownerApproved: false
        });
        _emitRequested(requestId);
        if (roles & policy.autoApproveRoles != 0) _authorize(requestId, true);
    }

    /// @notice Approves a pending request as its owner or as a reviewer (an active provider
    ///         other than the owner and the consumer; a regulator is not a reviewer).
    /// @dev Reverts with `NotDecider(requestId, caller)` for anyone else, `NotActiveMember`
    ///      when the owner is not active, `WrongState` unless the request is pending,
    ///      `AlreadyApproved` on a second approval by the same account.
    function approve(uint256 requestId) external {
        Request storage r = _existing(requestId);
        if (r.state != State.Pending) revert WrongState(requestId, r.state);
        bool isOwner = msg.sender == r.owner;
        if (!isOwner && !_isReviewer(msg.sender, r)) revert NotDecider(requestId, msg.sender);
        if (isOwner) _onlyActive();
        if (_approvedBy[requestId][msg.sender]) revert AlreadyApproved(requestId, msg.sender);
        _approvedBy[requestId][msg.sender] = true;
        if (isOwner) {
            r.ownerApproved = true;
        } else {
            ++r.approvals;
        }
        emit AccessApproved(requestId, msg.sender, isOwner, r.approvals);
        (, DataCatalog.Policy memory policy) = _catalog.ownerAndPolicy(r.datasetId);
        if (r.ownerApproved && r.approvals >= policy.reviewerApprovals) _authorize(requestId, false);
    }

    /// @notice Rejects a pending request (owner only, while active).
    function reject(uint256 requestId, bytes32 reasonHash) external {
        Request storage r = _existing(requestId);
        if (msg.sender != r.owner) revert NotDecider(requestId, msg.sender);
        _onlyActive();
        if (r.state != State.Pending) revert WrongState(requestId, r.state);
        r.state = State.Rejected;
        emit AccessRejected(requestId, msg.sender, reasonHash);
    }

    /// @notice Releases the data key of an authorized RAW grant, sealed to the consumer's
    ///         currently registered X25519 key (owner only). Called again after the consumer
    ///         rotates its key, it replaces the old release.
    function release(uint256 requestId, bytes calldata wrappedKey, bytes32 consumerKey) external {
        Request storage r = _existing(requestId);
        if (msg.sender != r.owner || !_registry.isActive(msg.sender)) {
            revert NotDecider(requestId, msg.sender);
        }
        if (r.mode != Mode.Raw) revert NotRaw(requestId);
        if (r.state != State.Authorized && r.state != State.Released) revert WrongState(requestId, r.state);
        if (block.timestamp >= r.expiresAt) revert Expired(requestId, r.expiresAt);
        if (wrappedKey.length != SEALED_KEY_LENGTH) revert InvalidWrappedKey(wrappedKey.length);
        bytes32 registered = _registry.encryptionKeyOf(r.consumer);
        if (consumerKey != registered) revert StaleConsumerKey(consumerKey, registered);
        r.state = State.Released;
        _wrappedKeys[requestId] = wrappedKey;
        _wrappedFor[requestId] = consumerKey;
        emit KeyReleased(requestId, consumerKey, wrappedKey);
    }

    /// @notice Revokes a request or grant (its owner while active, or an active regulator).
    function revoke(uint256 requestId, bytes32 reasonHash) external {
        Request storage r = _existing(requestId);
        bool regulator = _registry.hasRole(_registry.REGULATOR_ROLE(), msg.sender);
        if (msg.sender != r.owner && !regulator) revert NotDecider(requestId, msg.sender);
        if (!regulator) _onlyActive();
        if (r.state != State.Pending && r.state != State.Authorized && r.state != State.Released) {
            revert WrongState(requestId, r.state);
        }
        r.state = State.Revoked;
        delete _wrappedKeys[requestId];
        emit AccessRevoked(requestId, msg.sender, reasonHash);
    }

    /// @notice Pays for one DP answer before it is returned (the dataset owner's node only).
    ///         Reverts past the grant's ceiling, so no node can answer beyond the budget, and
    ///         past the lifetime budgets of the consumer account and of its department on the
    ///         dataset, which every grant draws on: applying again does not start from zero.
    /// @dev Reverts with `BudgetExceeded`, `LifetimeBudgetExceeded` or
    ///      `DepartmentBudgetExceeded`, checked in that order.
    /// @param queryHash Hash of the canonical query spec.
    /// @param resultHash Hash of the answer about to be returned.
    function spend(
        uint256 requestId,
        uint64 epsilonMilli,
        uint64 deltaNano,
        bytes32 queryHash,
        bytes32 resultHash
    ) external {
        _spend(requestId, msg.sender, epsilonMilli, deltaNano, queryHash, resultHash);
    }

    /// @notice Pays for an owner's part of a joint query run, as the owner joins it: callable
    ///         by the network's JointQuery contract only (NodeRegistry.networkContracts), which
    ///         passes the joining account as `owner` and the ε of its participant entry. The
    ///         same checks and event as `spend`, in the join's own transaction.
    /// @param runHash keccak256(jointId ‖ attempt): the run paid for.
    function spendForJoint(
        uint256 requestId,
        address owner,
        uint64 epsilonMilli,
        bytes32 queryHash,
        bytes32 runHash
    ) external {
        (,,,, address joint) = _registry.networkContracts();
        if (joint == address(0) || msg.sender != joint) revert NotJointContract(msg.sender);
        _spend(requestId, owner, epsilonMilli, 0, queryHash, runHash);
    }

    function _spend(
        uint256 requestId,
        address spender,
        uint64 epsilonMilli,
        uint64 deltaNano,
        bytes32 queryHash,
        bytes32 resultHash
    ) private {
        Request storage r = _existing(requestId);
        if (spender != r.owner) revert NotDecider(requestId, spender);
        if (r.mode != Mode.Dp) revert NotDp(requestId);
        if (!isUsable(requestId)) revert NotUsable(requestId);
        if (epsilonMilli == 0) revert InvalidEpsilon(0, r.epsilonMilli);
        uint64 spent = _spentMilli[requestId];
        uint64 remaining = r.epsilonMilli - spent;
        if (epsilonMilli > remaining) revert BudgetExceeded(requestId, epsilonMilli, remaining);
        _chargeLifetime(r.consumer, r.datasetId, epsilonMilli, deltaNano);
        spent += epsilonMilli;
        _spentMilli[requestId] = spent;
        emit BudgetSpent(requestId, epsilonMilli, deltaNano, spent, queryHash, resultHash);
    }

    /// @notice Privacy budget of `requestId`: ceiling and spent, in 1/1000 of ε.
    function budgetOf(uint256 requestId) external view returns (uint64 ceiling, uint64 spent) {
        return (_requests[requestId].epsilonMilli, _spentMilli[requestId]);
    }

    /// @notice The lifetime budgets of `consumer` and of its department on `datasetId`.
    function lifetimeBudgetOf(address consumer, bytes32 datasetId)
        public
        view
        returns (LifetimeBudget memory b)
    {
        (, DataCatalog.Policy memory policy) = _catalog.ownerAndPolicy(datasetId);
        b.department = _registry.departmentOf(consumer);
        Spent storage mine = _accountSpent[consumer][datasetId];
        Spent storage theirs = _departmentSpent[b.department][datasetId];
        b.accountCeilingMilli = policy.lifetimeEpsilonMilli;
        b.accountSpentMilli = mine.epsilonMilli;
        b.accountCeilingNano = policy.lifetimeDeltaNano;
        b.accountSpentNano = mine.deltaNano;
        b.departmentCeilingMilli = policy.departmentEpsilonMilli;
        b.departmentSpentMilli = theirs.epsilonMilli;
        b.departmentCeilingNano = policy.departmentDeltaNano;
        b.departmentSpentNano = theirs.deltaNano;
    }

    /// @notice What DP grant `requestId` may still spend now: the least of what its own
    ///         ceiling, its consumer's lifetime budget and its department's leave.
    function remainingOf(uint256 requestId) external view returns (uint64 epsilonMilli, uint64 deltaNano) {
        Request storage r = _existing(requestId);
        if (r.mode != Mode.Dp) return (0, 0);
        LifetimeBudget memory b = lifetimeBudgetOf(r.consumer, r.datasetId);
        uint64 lifetimeMilli = _min(
            _left(b.accountCeilingMilli, b.accountSpentMilli), _left(b.departmentCeilingMilli, b.departmentSpentMilli)
        );
        epsilonMilli = _min(r.epsilonMilli - _spentMilli[requestId], lifetimeMilli);
        deltaNano = _min(
            _left(b.accountCeilingNano, b.accountSpentNano), _left(b.departmentCeilingNano, b.departmentSpentNano)
        );
    }

    /// @notice The request `requestId`; reverts when unknown.
    function request(uint256 requestId) external view returns (Request memory) {
        return _existing(requestId);
    }

    /// @notice The released key of `requestId` and the consumer key it is sealed to.
    function wrappedKey(uint256 requestId) external view returns (bytes memory, bytes32) {
        return (_wrappedKeys[requestId], _wrappedFor[requestId]);
    }

    /// @notice Whether `requestId` grants access right now: RAW released (or DP authorized),
    ///         unexpired, unrevoked, and both parties active members.
    function isUsable(uint256 requestId) public view returns (bool) {
        Request storage r = _requests[requestId];
        bool stateOk = r.mode == Mode.Raw
            ? r.state == State.Released
            : (r.state == State.Authorized || r.state == State.Released);
        return stateOk && block.timestamp < r.expiresAt && _registry.isActive(r.consumer)
            && _registry.isActive(r.owner);
    }

    /// @notice Whether `account` approved `requestId`.
    function hasApproved(uint256 requestId, address account) external view returns (bool) {
        return _approvedBy[requestId][account];
    }

    /// @notice Number of requests ever made.
    function requestCount() external view returns (uint256) {
        return _count;
    }

    function _emitRequested(uint256 requestId) private {
        Request storage r = _requests[requestId];
        emit AccessRequested(
            requestId, r.datasetId, r.consumer, r.version, r.mode, r.epsilonMilli, r.duration, r.purposeHash
        );
    }

    function _authorize(uint256 requestId, bool automatic) private {
        Request storage r = _requests[requestId];
        r.state = State.Authorized;
        r.expiresAt = uint64(block.timestamp) + r.duration;
        emit AccessAuthorized(requestId, automatic, r.expiresAt);
    }

    function _chargeLifetime(address consumer, bytes32 datasetId, uint64 epsilonMilli, uint64 deltaNano)
        private
    {
        LifetimeBudget memory b = lifetimeBudgetOf(consumer, datasetId);
        uint64 leftMilli = _left(b.accountCeilingMilli, b.accountSpentMilli);
        uint64 leftNano = _left(b.accountCeilingNano, b.accountSpentNano);
        if (epsilonMilli > leftMilli || deltaNano > leftNano) {
            revert LifetimeBudgetExceeded(consumer, datasetId, epsilonMilli, leftMilli, deltaNano, leftNano);
        }
        leftMilli = _left(b.departmentCeilingMilli, b.departmentSpentMilli);
        leftNano = _left(b.departmentCeilingNano, b.departmentSpentNano);
        if (epsilonMilli > leftMilli || deltaNano > leftNano) {
            revert DepartmentBudgetExceeded(b.department, datasetId, epsilonMilli, leftMilli, deltaNano, leftNano);
        }
        Spent storage mine = _accountSpent[consumer][datasetId];
        mine.epsilonMilli += epsilonMilli;
        mine.deltaNano += deltaNano;
        Spent storage theirs = _departmentSpent[b.department][datasetId];
        theirs.epsilonMilli += epsilonMilli;
        theirs.deltaNano += deltaNano;
    }

    /// @dev A ceiling the owner lowered below what was spent leaves nothing (not an underflow).
    function _left(uint64 ceiling, uint64 spent) private pure returns (uint64) {
        return ceiling > spent ? ceiling - spent : 0;
    }

    function _min(uint64 a, uint64 b) private pure returns (uint64) {
        return a < b ? a : b;
    }

    function _existing(uint256 requestId) private view returns (Request storage r) {
        r = _requests[requestId];
        if (r.state == State.None) revert UnknownRequest(requestId);
    }

    function _onlyActive() private view {
        if (!_registry.isActive(msg.sender)) revert NotActiveMember(msg.sender);
    }

    function _isReviewer(address account, Request storage r) private view returns (bool) {
        if (account == r.owner || account == r.consumer) return false;
        return _registry.activeRolesOf(account) & _registry.ROLE_PROVIDER() != 0;
    }
}
