// Runs the pinned solc (npm `solc`) on a standard-JSON input read from stdin and writes the
// output to a file: piping solcjs's own stdout truncates large outputs when node exits.
const fs = require("fs");
const solc = require(process.argv[2]);
const input = fs.readFileSync(0, "utf8");
fs.writeFileSync(process.argv[3], solc.compile(input));
console.log(solc.version());
