// Second, independent LLaMA-1/2 tokenizer: the npm package llama-tokenizer-js (its own BPE in
// JavaScript over Meta's vocabulary and merges). Writes one JSON array of ids per input line.
//   node tests/oracle/llama_js.mjs IN.jsonl OUT
// It adds <s> and the leading "▁" like HF, and treats special-token strings as plain text (our
// default). For an empty text it returns [] where HF returns [<s>]; that line is written as null.
import fs from 'node:fs';
import readline from 'node:readline';
import llama from 'llama-tokenizer-js';

const [inPath, outPath] = process.argv.slice(2);
const out = fs.createWriteStream(outPath);
const rl = readline.createInterface({ input: fs.createReadStream(inPath), crlfDelay: Infinity });
for await (const line of rl) {
  const text = JSON.parse(line).text;
  const ids = text === '' ? null : llama.encode(text);
  if (!out.write(JSON.stringify(ids) + '\n')) await new Promise((r) => out.once('drain', r));
}
await new Promise((r) => out.end(r));
