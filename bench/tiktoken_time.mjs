// OpenAI's tiktoken (its Rust code, tiktoken-rs 0.6.0, behind the napi binding of the npm package
// tiktoken-rs-node-linux-x64-gnu 1.0.6), for bench/tokenizer_vs_hf.py.
//
//   node bench/tiktoken_time.mjs time ENCODING IN.jsonl
//     prints {"seconds": s, "bytes": n, "tokens": t}: single-threaded encode time of every
//     document's "text", encoder already loaded, like tests/oracle/hf.mjs time.
//   node bench/tiktoken_time.mjs encode ENCODING IN.jsonl OUT [--limit N]
//     one JSON array of ids per input line (the first N lines with --limit).
// ENCODING: cl100k_base or o200k_base (or gpt2, r50k_base, p50k_base, p50k_edit).
//
// The binding's encode() is tiktoken's encode_with_special_tokens: a special token's string in the
// text (<|endoftext|>, ...) becomes its id. There is no ordinary-only entry point, so `time` and
// `encode` refuse text that contains one (the bench corpus contains none): then every call is the
// same work as encode_ordinary.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import readline from 'node:readline';

const require = createRequire(import.meta.url);
const { getEncoding } = require('tiktoken-rs-node-linux-x64-gnu');

const [mode, encodingName, inPath, outPath, ...flags] = process.argv.slice(2);
if (!['time', 'encode'].includes(mode) || !encodingName || !inPath || (mode === 'encode' && !outPath)) {
  console.error('usage: tiktoken_time.mjs time ENCODING IN.jsonl | encode ENCODING IN.jsonl OUT [--limit N]');
  process.exit(2);
}
const enc = getEncoding(encodingName);
const limitAt = flags.indexOf('--limit');
const limit = limitAt >= 0 ? Number(flags[limitAt + 1]) : Infinity;
const special = /<\|(endoftext|fim_prefix|fim_middle|fim_suffix|endofprompt)\|>/;

const texts = [];
const rl = readline.createInterface({ input: fs.createReadStream(inPath), crlfDelay: Infinity });
for await (const line of rl) {
  if (texts.length >= limit) break;
  const t = JSON.parse(line).text;
  if (special.test(t)) {
    console.error(`document ${texts.length + 1} holds a special token's string; tiktoken would encode it as special`);
    process.exit(1);
  }
  texts.push(t);
}

if (mode === 'time') {
  let bytes = 0;
  for (const t of texts) bytes += Buffer.byteLength(t, 'utf8');
  let tokens = 0;
  const t0 = process.hrtime.bigint();
  for (const t of texts) tokens += enc.encode(t).length;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ seconds, bytes, tokens }));
} else {
  const out = fs.createWriteStream(outPath);
  for (const t of texts) {
    if (!out.write(JSON.stringify(Array.from(enc.encode(t))) + '\n')) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r) => out.end(r));
}
