// ethers v6's standard calls against a JSON-RPC URL; prints one JSON object for
// tests/chain/test_ethers.py to check against web3.py's reads of the same chain.
// usage: node standard_calls.mjs INPUT.json   (INPUT: {url, key, probe, abi})
import { readFileSync } from "node:fs";
import { Contract, JsonRpcProvider, Wallet } from "ethers";

const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
// no answer cache: blocks are mined at once, so a nonce read 250 ms ago is already stale
const provider = new JsonRpcProvider(input.url, undefined, { batchMaxCount: 1, cacheTimeout: -1 });
provider.pollingInterval = 100;
const wallet = new Wallet(input.key, provider);
const probe = new Contract(input.probe, input.abi, wallet);
const out = {};

const plain = (value) =>
  JSON.parse(JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v)));

function withTimeout(promise, ms, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)),
  ]);
}

out.chainId = (await provider.getNetwork()).chainId.toString();
out.blockNumber = await provider.getBlockNumber();
const genesis = await provider.getBlock(0);
out.genesis = { hash: genesis.hash, stateRoot: genesis.stateRoot, timestamp: genesis.timestamp };
const head = await provider.getBlock("latest", true);
out.latest = {
  number: head.number,
  hash: head.hash,
  parentHash: head.parentHash,
  stateRoot: head.stateRoot,
  transactions: head.prefetchedTransactions.map((tx) => tx.hash),
};
out.balance = (await provider.getBalance(wallet.address)).toString();
out.nonce = await provider.getTransactionCount(wallet.address);
out.label = await probe.label();
out.callRaw = await provider.call({ to: input.probe, data: probe.interface.encodeFunctionData("label") });
out.estimate = (await probe.store.estimateGas("0x" + "02".repeat(32), 9)).toString();

// a log subscription: ethers polls it with eth_newFilter / eth_getFilterChanges
const seen = new Promise((resolve) => probe.once(probe.filters.Pinged(77), (...args) => resolve(args.at(-1))));
await new Promise((r) => setTimeout(r, 300)); // let ethers install its filter first

const sent = {};
// on a zero-fee chain ethers picks legacy by itself; EIP-1559 is asked for by type
for (const [name, extra] of [["eip1559", { type: 2 }], ["legacy", { type: 0 }]]) {
  const tx = await wallet.sendTransaction({ to: "0x" + "33".repeat(20), value: 1234n, ...extra });
  const receipt = await tx.wait();
  const fetched = await provider.getTransaction(tx.hash);
  const again = await provider.getTransactionReceipt(tx.hash);
  sent[name] = {
    hash: tx.hash,
    type: fetched.type,
    from: fetched.from,
    to: fetched.to,
    value: fetched.value.toString(),
    nonce: fetched.nonce,
    chainId: fetched.chainId.toString(),
    blockNumber: receipt.blockNumber,
    blockHash: receipt.blockHash,
    status: again.status,
    gasUsed: again.gasUsed.toString(),
  };
}
out.sent = sent;

const emitted = await (await probe.emitBatch(77, 5, 2)).wait();
out.emitted = { hash: emitted.hash, blockNumber: emitted.blockNumber, logs: emitted.logs.length };
// ethers polls a filter on a new block only, and each time re-arms a block poller that
// starts from the head it first reads: a block mined in between is never announced. A
// chain that mines only on transactions (this one) could then leave the event unpolled,
// so keep blocks coming, as a live network does, until the subscription has answered.
let ticking = true;
const ticker = (async () => {
  while (ticking) {
    await new Promise((r) => setTimeout(r, 500));
    if (ticking) await (await wallet.sendTransaction({ to: wallet.address, value: 0n })).wait();
  }
})();
const event = await withTimeout(seen, 20000, "Pinged subscription").finally(() => {
  ticking = false;
});
await ticker;
out.subscribed = { tag: event.args[0].toString(), seq: event.args[1].toString(), tx: event.log.transactionHash };
const logs = await provider.getLogs({
  address: input.probe,
  topics: [probe.interface.getEvent("Pinged").topicHash],
  fromBlock: 0,
  toBlock: "latest",
});
out.logs = logs.map((log) => ({
  tx: log.transactionHash,
  block: log.blockNumber,
  index: log.index,
  topics: log.topics,
}));
await probe.removeAllListeners(); // ethers uninstalls its filter (eth_uninstallFilter)
await new Promise((r) => setTimeout(r, 300));
provider.destroy();
// exit once written: idle keep-alive sockets would hold the process open for seconds
process.stdout.write(JSON.stringify(plain(out)) + "\n", () => process.exit(0));
