// The oracle for text/normalize.h: Hugging Face tokenizers' NFC, NFD, NFKC, NFKD and Lowercase
// normalizers (the Rust library through its official Node binding).
//
//   node tests/oracle/hf_normalize.mjs IN.jsonl OUT.jsonl
//     per {"text": ...} line: {"nfc", "nfd", "nfkc", "nfkd", "lower"}, each the normalizer's output.
import fs from 'node:fs';
import readline from 'node:readline';
import { nfcNormalizer, nfdNormalizer, nfkcNormalizer, nfkdNormalizer, lowercase } from 'tokenizers';

const [inPath, outPath] = process.argv.slice(2);
const normalizers = [['nfc', nfcNormalizer()], ['nfd', nfdNormalizer()], ['nfkc', nfkcNormalizer()],
  ['nfkd', nfkdNormalizer()], ['lower', lowercase()]];
const out = fs.createWriteStream(outPath);
const rl = readline.createInterface({ input: fs.createReadStream(inPath), crlfDelay: Infinity });
for await (const line of rl) {
  const text = JSON.parse(line).text;
  const result = {};
  for (const [name, n] of normalizers) result[name] = n.normalizeString(text);
  if (!out.write(JSON.stringify(result) + '\n')) await new Promise((r) => out.once('drain', r));
}
await new Promise((r) => out.end(r));
