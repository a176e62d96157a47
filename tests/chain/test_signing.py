"""Transactions as node.chain.client signs them are byte for byte the ones py-evm's
transaction builder and eth-account make for the same fields and key (both reference
implementations), for EIP-1559 and for legacy EIP-155; and the address of a key is
eth-account's."""

from __future__ import annotations

from eth.vm.forks import PragueVM
from eth_account import Account
from eth_keys import keys
from eth_utils import to_canonical_address
from hypothesis import given, settings
from hypothesis import strategies as st

from node.chain.accounts import KeyAccount
from node.chain.client import sign_transaction

KEY = st.integers(1, 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140).map(
    lambda k: k.to_bytes(32, "big")
)
U64 = st.integers(0, 2**64 - 1)
ADDRESS = st.one_of(st.none(), st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex()))
DATA = st.binary(max_size=300)


def _reference(key: bytes, chain_id: int, nonce: int, gas: int, fees: dict, to, data) -> bytes:
    builder = PragueVM.get_transaction_builder()
    to_bytes = to_canonical_address(to) if to else b""
    if "gasPrice" in fees:
        unsigned = builder.create_unsigned_transaction(
            nonce=nonce, gas_price=fees["gasPrice"], gas=gas, to=to_bytes, value=0, data=data
        )
    else:
        unsigned = builder.new_unsigned_dynamic_fee_transaction(
            chain_id=chain_id,
            nonce=nonce,
            max_priority_fee_per_gas=fees["maxPriorityFeePerGas"],
            max_fee_per_gas=fees["maxFeePerGas"],
            gas=gas,
            to=to_bytes,
            value=0,
            data=data,
            access_list=(),
        )
    return unsigned.as_signed_transaction(keys.PrivateKey(key), chain_id=chain_id).encode()


@settings(max_examples=60, deadline=None)
@given(
    key=KEY,
    chain_id=st.integers(1, 2**32),
    nonce=U64,
    gas=st.integers(21_000, 30_000_000),
    tip=U64,
    cap=U64,
    legacy=st.booleans(),
    to=ADDRESS,
    data=DATA,
)
def test_signed_transactions_equal_py_evm_and_eth_account(
    key, chain_id, nonce, gas, tip, cap, legacy, to, data
) -> None:
    fees = {"gasPrice": cap} if legacy else {"maxPriorityFeePerGas": tip, "maxFeePerGas": cap}
    ours = sign_transaction(keys.PrivateKey(key), chain_id, nonce, gas, fees, to, data)
    assert ours == _reference(key, chain_id, nonce, gas, fees, to, data)
    tx = {"chainId": chain_id, "nonce": nonce, "gas": gas, "value": 0, "data": data, **fees}
    if to:
        tx["to"] = to_canonical_address(to)
    assert ours == bytes(Account.sign_transaction(tx, key).raw_transaction)


@settings(max_examples=30, deadline=None)
@given(key=KEY)
def test_a_keys_address_is_eth_accounts(key: bytes) -> None:
    assert KeyAccount.from_key(key).address == Account.from_key(key).address
    assert KeyAccount.from_key(key).key == key


def test_a_new_account_is_valid_and_its_repr_hides_the_key() -> None:
    a = KeyAccount.create()
    assert Account.from_key(a.key).address == a.address
    assert a.key.hex() not in repr(a) and a.address in repr(a)
