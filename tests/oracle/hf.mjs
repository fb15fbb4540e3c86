// The oracle: Hugging Face tokenizers (the Rust library, through its official Node binding).
//
//   node tests/oracle/hf.mjs encode TOKENIZER.json IN.jsonl OUT [--plain-special] [--no-special]
//     one JSON array of ids per input line ({"text": ...}), as HF's encode(text, add_special_tokens).
//     --plain-special: special tokens are plain text. This binding has no encode_special_tokens
//     switch, so their strings are replaced by ones no text contains (removing them instead would
//     make HF renumber the remaining added tokens).
//   node tests/oracle/hf.mjs decode TOKENIZER.json IN OUT [--skip-special]
//     IN holds one JSON array of ids per line; OUT gets {"text": ...} per line.
//   node tests/oracle/hf.mjs time TOKENIZER.json IN.jsonl
//     prints {"seconds": s, "bytes": n, "tokens": t}: single-threaded encode time, for bench/.
//   node tests/oracle/hf.mjs time-batch TOKENIZER.json IN.jsonl
//     the same for one encodeBatch of every text (HF's own threads, all cores).
import fs from 'node:fs';
import readline from 'node:readline';
import { Tokenizer } from 'tokenizers';

const [mode, tokPath, inPath, outPath, ...flags] = process.argv.slice(2);
let json = JSON.parse(fs.readFileSync(tokPath, 'utf8'));
const renamed = flags.includes('--plain-special');
const fileIds = new Map();  // added token content -> id in the file
if (renamed) {
  for (const t of json.added_tokens || []) {
    if (t.special) t.content = `\u27e6longctx-unmatchable-special-${t.id}\u27e7`;
    else fileIds.set(t.content, t.id);
  }
}
const tok = Tokenizer.fromString(JSON.stringify(json));
json = null;
// Renamed specials that are not in the model vocabulary get new ids from HF, which shifts the
// non-special added tokens after them: translate those back to the file's ids.
const translate = new Map();
for (const [content, id] of fileIds) {
  const hfId = tok.tokenToId(content);
  if (hfId !== null && hfId !== undefined && hfId !== id) translate.set(hfId, id);
}
const addSpecial = !flags.includes('--no-special');

async function* lines(path) {
  const rl = readline.createInterface({ input: fs.createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) yield line;
}

if (mode === 'encode') {
  const out = fs.createWriteStream(outPath);
  for await (const line of lines(inPath)) {
    const e = await tok.encode(JSON.parse(line).text, null, { addSpecialTokens: addSpecial });
    const ids = translate.size ? e.getIds().map((id) => translate.get(id) ?? id) : e.getIds();
    if (!out.write(JSON.stringify(ids) + '\n')) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r) => out.end(r));
} else if (mode === 'decode') {
  const skip = flags.includes('--skip-special');
  const out = fs.createWriteStream(outPath);
  for await (const line of lines(inPath)) {
    const text = await tok.decode(JSON.parse(line), skip);
    if (!out.write(JSON.stringify({ text }) + '\n')) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r) => out.end(r));
} else if (mode === 'time') {
  const texts = [];
  for await (const line of lines(inPath)) texts.push(JSON.parse(line).text);
  let bytes = 0;
  for (const t of texts) bytes += Buffer.byteLength(t, 'utf8');
  let tokens = 0;
  const t0 = process.hrtime.bigint();
  for (const t of texts) tokens += (await tok.encode(t, null, { addSpecialTokens: true })).getLength();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ seconds, bytes, tokens }));
} else if (mode === 'time-batch') {
  // encodeBatch over all texts at once: the Rust side splits them over all cores (rayon).
  const texts = [];
  for await (const line of lines(inPath)) texts.push(JSON.parse(line).text);
  let bytes = 0;
  for (const t of texts) bytes += Buffer.byteLength(t, 'utf8');
  const t0 = process.hrtime.bigint();
  const encs = await tok.encodeBatch(texts, { addSpecialTokens: true });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let tokens = 0;
  for (const e of encs) tokens += e.getLength();
  console.log(JSON.stringify({ seconds, bytes, tokens }));
} else {
  console.error('usage: hf.mjs encode|decode|time|time-batch TOKENIZER.json IN [OUT] [flags]');
  process.exit(2);
}
