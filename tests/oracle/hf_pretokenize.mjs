// The oracle for the pre-tokenizer scanners (src/tokenizer/split_patterns.*): Hugging Face
// tokenizers' own pre-tokenizer, through its Node binding (PreTokenizer.preTokenizeString).
//
//   node tests/oracle/hf_pretokenize.mjs PATTERN IN OUT
//     IN: one JSON string per line; OUT: one JSON array of the pieces per line.
//   node tests/oracle/hf_pretokenize.mjs PATTERN --json
//     prints the pre_tokenizer JSON (for tokenizer.json variants).
// PATTERN: llama3 | qwen2 | gpt2 | o200k | deepseek-v3, each as its tokenizer.json has it: a
// Sequence of Split pre-tokenizers (Isolated, not inverted), without the ByteLevel byte mapping
// that follows them (it does not split), so pieces are substrings of the input.
// Or file:PATH: the pre_tokenizer of that tokenizer.json as it is, less its ByteLevel entries
// with use_regex false.
import fs from 'node:fs';
import readline from 'node:readline';
import { Tokenizer } from 'tokenizers';

export const REGEXES = {
  llama3: [
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ],
  qwen2: [
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ],
  gpt2: ["'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"],
  o200k: [
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|" +
      "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|" +
      "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ],
  // As in DeepSeek-V3's tokenizer.json: CR and LF stand there as the characters themselves.
  'deepseek-v3': [
    '\\p{N}{1,3}',
    '[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+',
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
  ],
};

export function preTokenizerJson(name) {
  if (name.startsWith('file:')) {
    const pt = JSON.parse(fs.readFileSync(name.slice(5), 'utf8')).pre_tokenizer;
    const list = pt.type === 'Sequence' ? pt.pretokenizers : [pt];
    const kept = list.filter((p) => !(p.type === 'ByteLevel' && p.use_regex === false));
    return { type: 'Sequence', pretokenizers: kept };
  }
  const regexes = REGEXES[name];
  if (!regexes) throw new Error(`unknown pattern ${name}`);
  return {
    type: 'Sequence',
    pretokenizers: regexes.map((r) => ({ type: 'Split', pattern: { Regex: r }, behavior: 'Isolated', invert: false })),
  };
}

export function hfPreTokenizer(name) {
  const json = {
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
    pre_tokenizer: preTokenizerJson(name), post_processor: null, decoder: null,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
             fuse_unk: false, byte_fallback: false, vocab: {}, merges: [] },
  };
  return Tokenizer.fromString(JSON.stringify(json)).getPreTokenizer();
}

async function main() {
  const [name, inPath, outPath] = process.argv.slice(2);
  if (inPath === '--json') {
    console.log(JSON.stringify(preTokenizerJson(name)));
    return;
  }
  if (!name || !inPath || !outPath) {
    console.error('usage: hf_pretokenize.mjs PATTERN IN OUT | PATTERN --json');
    process.exit(2);
  }
  const pt = hfPreTokenizer(name);
  const out = fs.createWriteStream(outPath);
  const rl = readline.createInterface({ input: fs.createReadStream(inPath), crlfDelay: Infinity });
  for await (const line of rl) {
    const pieces = pt.preTokenizeString(JSON.parse(line)).map((p) => p[0]);
    if (!out.write(JSON.stringify(pieces) + '\n')) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r) => out.end(r));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
