// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title NodeRegistry
/// @notice The departments of a Tanlian network: who they are, what they may do, how to reach
///         them and whether they are trusted right now. A department registers itself
///         (pending); regulators approve it until the network's threshold is met (active);
///         a regulator may suspend and reinstate it; the department rotates its own
///         encryption key and endpoint. Genesis members are active from deployment.
///         Department names are unique and permanent: no two members (of any status) hold
///         the same name, byte for byte, and there is no rename.
/// @dev Roles are OpenZeppelin AccessControl roles granted on activation. `hasRole` also
///      requires the member to be active, so suspension disables every role at once and
///      reinstatement restores them. No account holds DEFAULT_ADMIN_ROLE: roles change only
///      through this contract's own rules.
contract NodeRegistry is AccessControl {
    /// @notice Publishes datasets.
    bytes32 public constant PROVIDER_ROLE = keccak256("PROVIDER");
    /// @notice Applies for and pulls datasets.
    bytes32 public constant CONSUMER_ROLE = keccak256("CONSUMER");
    /// @notice Runs privacy-preserving queries and computes indicators.
    bytes32 public constant ANALYST_ROLE = keccak256("ANALYST");
    /// @notice Approves registrations, suspends and reinstates members, audits.
    bytes32 public constant REGULATOR_ROLE = keccak256("REGULATOR");

    /// @dev Role bits in `roles` masks, in this order.
    uint8 public constant ROLE_PROVIDER = 1;
    uint8 public constant ROLE_CONSUMER = 2;
    uint8 public constant ROLE_ANALYST = 4;
    uint8 public constant ROLE_REGULATOR = 8;
    uint8 private constant _ALL_ROLES = 15;

    /// @notice Life cycle of a member.
    enum Status {
        None,
        Pending,
        Active,
        Suspended
    }

    /// @notice What the registry knows of one department.
    struct Member {
        string name;
        uint8 roles;
        bytes32 encryptionKey;
        string endpoint;
        Status status;
        uint32 approvals;
        uint64 registeredAt;
    }

    /// @notice A member present from deployment.
    struct GenesisMember {
        address account;
        string name;
        uint8 roles;
        bytes32 encryptionKey;
        string endpoint;
    }

    /// @notice `account` is already registered.
    error AlreadyRegistered(address account);
    /// @notice `account` is not registered.
    error NotRegistered(address account);
    /// @notice The operation needs `account` in status `expected`, but it is in `actual`.
    error WrongStatus(address account, Status expected, Status actual);
    /// @notice `regulator` has already approved `account`.
    error AlreadyApproved(address account, address regulator);
    /// @notice The roles mask is empty or has unknown bits.
    error InvalidRoles(uint8 roles);
    /// @notice Names and endpoints must be non-empty and at most 256 bytes.
    error InvalidText();
    /// @notice The X25519 encryption key must not be zero.
    error InvalidEncryptionKey();
    /// @notice The approval threshold must be between 1 and the number of genesis regulators.
    error InvalidThreshold(uint256 threshold, uint256 regulators);
    /// @notice A regulator may not approve, suspend or reinstate itself.
    error SelfAction(address account);
    /// @notice `name` is already the name of member `holder`.
    error NameTaken(string name, address holder);
    /// @notice `account` already belongs to a department, or `department` is itself an
    ///         account of another department.
    error InvalidDepartment(address account, address department);
    /// @notice The network's contracts are named once; they are already set.
    error NetworkContractsAlreadySet();
    /// @notice A network contract address must hold code.
    error InvalidContract(address account);

    /// @notice `account` asked to join as `name` with `roles`.
    event MemberRegistered(
        address indexed account, string name, uint8 roles, bytes32 encryptionKey, string endpoint
    );
    /// @notice `regulator` approved `account`; `approvals` counted so far.
    event RegistrationApproved(address indexed account, address indexed regulator, uint32 approvals);
    /// @notice `account` reached the threshold (or was a genesis member) and is active.
    event MemberActivated(address indexed account, uint8 roles);
    /// @notice `regulator` suspended `account` for `reasonHash`.
    event MemberSuspended(address indexed account, address indexed regulator, bytes32 reasonHash);
    /// @notice `regulator` reinstated `account`.
    event MemberReinstated(address indexed account, address indexed regulator);
    /// @notice `account` replaced its X25519 encryption key.
    event EncryptionKeyRotated(address indexed account, bytes32 encryptionKey);
    /// @notice `account` moved its API endpoint.
    event EndpointChanged(address indexed account, string endpoint);
    /// @notice `regulator` made `account` one of the accounts of department `department`.
    event DepartmentAssigned(address indexed account, address indexed department, address indexed regulator);
    /// @notice `regulator` named the network's DataCatalog, AccessManager, AuditLog,
    ///         ValueCommitments and JointQuery.
    event NetworkContractsSet(
        address indexed regulator,
        address catalog,
        address access,
        address audit,
        address commitments,
        address joint
    );

    uint256 private immutable _threshold;
    mapping(address account => Member) private _members;
    mapping(address account => mapping(address regulator => bool)) private _approvedBy;
    address[] private _accounts;
    mapping(bytes32 nameHash => address account) private _byName;
    mapping(address account => address department) private _departmentOf;
    address private _catalog;
    address private _access;
    address private _audit;
    address private _commitments;
    address private _joint;

    /// @param genesis Members active from the start (at least `threshold` regulators).
    /// @param threshold Regulator approvals needed to activate a registration.
    constructor(GenesisMember[] memory genesis, uint256 threshold) {
        uint256 regulators;
        for (uint256 i = 0; i < genesis.length; ++i) {
            GenesisMember memory g = genesis[i];
            _newMember(g.account, g.name, g.roles, g.encryptionKey, g.endpoint);
            _activate(g.account);
            if (g.roles & ROLE_REGULATOR != 0) ++regulators;
        }
        if (threshold == 0 || threshold > regulators) revert InvalidThreshold(threshold, regulators);
        _threshold = threshold;
    }

    // ------------------------------------------------------------------ membership

    /// @notice Asks to join the network; the caller's account becomes a pending member.
    /// @dev Reverts with `NameTaken` when another member already holds `name`.
    /// @param name Department name shown to others (unique in the registry, permanent).
    /// @param roles Mask of ROLE_* bits asked for.
    /// @param encryptionKey X25519 public key that data keys are wrapped to.
    /// @param endpoint Base URL of the department's node API.
    function register(string calldata name, uint8 roles, bytes32 encryptionKey, string calldata endpoint)
        external
    {
        _newMember(msg.sender, name, roles, encryptionKey, endpoint);
    }

    /// @notice Approves a pending registration; activates it when the threshold is reached.
    /// @dev Reverts with `AccessControlUnauthorizedAccount` unless the caller is an active
    ///      regulator; with `WrongStatus` unless `account` is pending; with
    ///      `AlreadyApproved` on a second approval by the same regulator.
    function approve(address account) external onlyRole(REGULATOR_ROLE) {
        if (account == msg.sender) revert SelfAction(account);
        Member storage m = _existing(account);
        if (m.status != Status.Pending) revert WrongStatus(account, Status.Pending, m.status);
        if (_approvedBy[account][msg.sender]) revert AlreadyApproved(account, msg.sender);
        _approvedBy[account][msg.sender] = true;
        uint32 approvals = ++m.approvals;
        emit RegistrationApproved(account, msg.sender, approvals);
        if (approvals >= _threshold) _activate(account);
    }

    /// @notice Suspends an active member: all its roles stop working at once.
    /// @param reasonHash Hash of the written reason kept off chain.
    function suspend(address account, bytes32 reasonHash) external onlyRole(REGULATOR_ROLE) {
        if (account == msg.sender) revert SelfAction(account);
        Member storage m = _existing(account);
        if (m.status != Status.Active) revert WrongStatus(account, Status.Active, m.status);
        m.status = Status.Suspended;
        emit MemberSuspended(account, msg.sender, reasonHash);
    }

    /// @notice Reinstates a suspended member with the roles it had.
    function reinstate(address account) external onlyRole(REGULATOR_ROLE) {
        if (account == msg.sender) revert SelfAction(account);
        Member storage m = _existing(account);
        if (m.status != Status.Suspended) revert WrongStatus(account, Status.Suspended, m.status);
        m.status = Status.Active;
        emit MemberReinstated(account, msg.sender);
    }

    /// @notice Makes a pending `account` one more account of the active member `department`,
    ///         for good: budgets kept per department (e.g. lifetime privacy budgets) are then
    ///         shared by all its accounts.
    /// @dev Only while `account` is pending, so it has used nothing on its own yet; reverts
    ///      with `WrongStatus` otherwise or unless `department` is active, with
    ///      `InvalidDepartment` when `account` is already assigned or `department` is itself
    ///      an account of another department.
    function assignDepartment(address account, address department) external onlyRole(REGULATOR_ROLE) {
        Member storage m = _existing(account);
        if (m.status != Status.Pending) revert WrongStatus(account, Status.Pending, m.status);
        Status headStatus = _members[department].status;
        if (headStatus != Status.Active) revert WrongStatus(department, Status.Active, headStatus);
        if (_departmentOf[account] != address(0) || _departmentOf[department] != address(0)) {
            revert InvalidDepartment(account, department);
        }
        _departmentOf[account] = department;
        emit DepartmentAssigned(account, department, msg.sender);
    }

    /// @notice Replaces the caller's X25519 encryption key (pending or active members).
    function rotateEncryptionKey(bytes32 encryptionKey) external {
        Member storage m = _selfNotSuspended();
        if (encryptionKey == bytes32(0)) revert InvalidEncryptionKey();
        m.encryptionKey = encryptionKey;
        emit EncryptionKeyRotated(msg.sender, encryptionKey);
    }

    /// @notice Moves the caller's API endpoint (pending or active members).
    function setEndpoint(string calldata endpoint) external {
        Member storage m = _selfNotSuspended();
        _checkText(endpoint);
        m.endpoint = endpoint;
        emit EndpointChanged(msg.sender, endpoint);
    }

    // ------------------------------------------------------------------ network

    /// @notice Names the network's other contracts, once, so that a new department's node
    ///         finds them from this registry's address alone.
    /// @dev Reverts with `AccessControlUnauthorizedAccount` unless the caller is an active
    ///      regulator; with `NetworkContractsAlreadySet` on a second call; with
    ///      `InvalidContract` for an address without code.
    /// @param catalog The DataCatalog bound to this registry.
    /// @param access The AccessManager bound to this registry and `catalog`.
    /// @param audit The AuditLog bound to this registry.
    /// @param commitments The ValueCommitments bound to this registry.
    /// @param joint The JointQuery bound to this registry, `catalog` and `access`.
    function setNetworkContracts(
        address catalog,
        address access,
        address audit,
        address commitments,
        address joint
    ) external onlyRole(REGULATOR_ROLE) {
        if (_catalog != address(0)) revert NetworkContractsAlreadySet();
        if (catalog.code.length == 0) revert InvalidContract(catalog);
        if (access.code.length == 0) revert InvalidContract(access);
        if (audit.code.length == 0) revert InvalidContract(audit);
        if (commitments.code.length == 0) revert InvalidContract(commitments);
        if (joint.code.length == 0) revert InvalidContract(joint);
        _catalog = catalog;
        _access = access;
        _audit = audit;
        _commitments = commitments;
        _joint = joint;
        emit NetworkContractsSet(msg.sender, catalog, access, audit, commitments, joint);
    }

    // ------------------------------------------------------------------ views

    /// @notice The network's DataCatalog, AccessManager, AuditLog, ValueCommitments and
    ///         JointQuery (zero until named).
    function networkContracts()
        external
        view
        returns (address catalog, address access, address audit, address commitments, address joint)
    {
        return (_catalog, _access, _audit, _commitments, _joint);
    }

    /// @notice Everything the registry holds on `account` (status None when unknown).
    function member(address account) external view returns (Member memory) {
        return _members[account];
    }

    /// @notice Status of `account`.
    function statusOf(address account) external view returns (Status) {
        return _members[account].status;
    }

    /// @notice Whether `account` is an active member.
    function isActive(address account) public view returns (bool) {
        return _members[account].status == Status.Active;
    }

    /// @notice Roles mask of `account` while it is active; zero otherwise.
    function activeRolesOf(address account) external view returns (uint8) {
        Member storage m = _members[account];
        return m.status == Status.Active ? m.roles : 0;
    }

    /// @notice Current X25519 encryption key of `account` (zero when unknown).
    function encryptionKeyOf(address account) external view returns (bytes32) {
        return _members[account].encryptionKey;
    }

    /// @notice Whether `regulator` has approved `account`.
    function hasApproved(address account, address regulator) external view returns (bool) {
        return _approvedBy[account][regulator];
    }

    /// @notice Approvals needed to activate a registration.
    function threshold() external view returns (uint256) {
        return _threshold;
    }

    /// @notice The member holding `name` (the zero address when none does).
    function accountOf(string calldata name) external view returns (address) {
        return _byName[keccak256(bytes(name))];
    }

    /// @notice The department `account` belongs to: the account it was assigned to, or
    ///         `account` itself (a member is its own department unless assigned).
    function departmentOf(address account) external view returns (address) {
        address department = _departmentOf[account];
        return department == address(0) ? account : department;
    }

    /// @notice Number of members ever registered.
    function memberCount() external view returns (uint256) {
        return _accounts.length;
    }

    /// @notice The `index`-th registered account.
    function memberAt(uint256 index) external view returns (address) {
        return _accounts[index];
    }

    /// @notice An active member's roles; a suspended or pending member has none.
    function hasRole(bytes32 role, address account) public view override returns (bool) {
        return isActive(account) && super.hasRole(role, account);
    }

    // ------------------------------------------------------------------ internals

    function _newMember(address account, string memory name, uint8 roles, bytes32 key, string memory endpoint)
        private
    {
        if (_members[account].status != Status.None) revert AlreadyRegistered(account);
        if (roles == 0 || roles & ~_ALL_ROLES != 0) revert InvalidRoles(roles);
        if (key == bytes32(0)) revert InvalidEncryptionKey();
        _checkText(name);
        _checkText(endpoint);
        // names identify departments to people and to the CLI (DEPT/DATASET): one holder each
        bytes32 nameHash = keccak256(bytes(name));
        address holder = _byName[nameHash];
        if (holder != address(0)) revert NameTaken(name, holder);
        _byName[nameHash] = account;
        _members[account] = Member({
            name: name,
            roles: roles,
            encryptionKey: key,
            endpoint: endpoint,
            status: Status.Pending,
            approvals: 0,
            registeredAt: uint64(block.timestamp)
        });
        _accounts.push(account);
        emit MemberRegistered(account, name, roles, key, endpoint);
    }

    function _activate(address account) private {
        Member storage m = _members[account];
        m.status = Status.Active;
        uint8 roles = m.roles;
        if (roles & ROLE_PROVIDER != 0) _grantRole(PROVIDER_ROLE, account);
        if (roles & ROLE_CONSUMER != 0) _grantRole(CONSUMER_ROLE, account);
        if (roles & ROLE_ANALYST != 0) _grantRole(ANALYST_ROLE, account);
        if (roles & ROLE_REGULATOR != 0) _grantRole(REGULATOR_ROLE, account);
        emit MemberActivated(account, roles);
    }

    function _existing(address account) private view returns (Member storage m) {
        m = _members[account];
        if (m.status == Status.None) revert NotRegistered(account);
    }

    function _selfNotSuspended() private view returns (Member storage m) {
        m = _existing(msg.sender);
        if (m.status == Status.Suspended) revert WrongStatus(msg.sender, Status.Active, m.status);
    }

    function _checkText(string memory text) private pure {
        uint256 len = bytes(text).length;
        if (len == 0 || len > 256) revert InvalidText();
    }
}
