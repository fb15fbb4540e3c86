// The needle scores. The paper's: set(lower(response).split()) ∩ set(ANS) over len(ANS) = 12
// whitespace words of the answer ("a" appears twice, so a perfect answer gets 11/12).
#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "longctx/eval/needle.h"
#include "longctx/util/error.h"

namespace longctx::eval {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> split_ws(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// ROUGE's tokenizer: lowercase, anything not [a-z0-9] separates words.
std::vector<std::string> rouge_words(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (const char ch : lower(s)) {
    if (std::isalnum(static_cast<unsigned char>(ch))) {
      cur += ch;
    } else if (!cur.empty()) {
      out.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::string normalise(const std::string& s) {
  std::string out;
  for (const auto& w : rouge_words(s)) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

NeedleScores score_needle(const std::string& response, const std::string& answer) {
  NeedleScores s;
  const auto ans = split_ws(lower(answer));
  const auto resp = split_ws(lower(response));
  const std::set<std::string> ans_set(ans.begin(), ans.end()), resp_set(resp.begin(), resp.end());
  size_t common = 0;
  for (const auto& w : ans_set) common += resp_set.count(w);
  s.paper_recall = ans.empty() ? 0.0 : static_cast<double>(common) / static_cast<double>(ans.size());
  s.recall = ans_set.empty() ? 0.0 : static_cast<double>(common) / static_cast<double>(ans_set.size());
  std::map<std::string, int> ref, pred;
  const auto rw = rouge_words(answer), pw = rouge_words(response);
  for (const auto& w : rw) ++ref[w];
  for (const auto& w : pw) ++pred[w];
  int overlap = 0;
  for (const auto& [w, n] : ref)
    if (pred.count(w)) overlap += std::min(n, pred[w]);
  if (overlap > 0) {
    const double p = static_cast<double>(overlap) / static_cast<double>(pw.size());
    const double r = static_cast<double>(overlap) / static_cast<double>(rw.size());
    s.rouge1_f = 2 * p * r / (p + r);
  }
  const std::string na = normalise(answer), nr = normalise(response);
  s.substring = !na.empty() && nr.find(na) != std::string::npos;
  return s;
}

double string_match_all(const std::string& response, const std::vector<std::string>& refs) {
  if (refs.empty()) return 0.0;
  const std::string r = lower(response);
  double found = 0;
  for (const auto& ref : refs) found += r.find(lower(ref)) != std::string::npos;
  return found / static_cast<double>(refs.size());
}

double string_match_part(const std::string& response, const std::vector<std::string>& refs) {
  const std::string r = lower(response);
  for (const auto& ref : refs)
    if (r.find(lower(ref)) != std::string::npos) return 1.0;
  return 0.0;
}

double bookqa_recall(const std::string& prediction, const std::string& answer) {
  const auto a = split_ws(lower(answer)), p = split_ws(lower(prediction));
  const std::set<std::string> as(a.begin(), a.end()), ps(p.begin(), p.end());
  if (as.empty()) return 0.0;
  size_t common = 0;
  for (const auto& w : as) common += ps.count(w);
  return static_cast<double>(common) / static_cast<double>(as.size());
}

namespace {
// SQuAD's normalize_answer: lowercase, drop ASCII punctuation, drop the articles a/an/the, split.
std::vector<std::string> squad_tokens(const std::string& s) {
  std::string t;
  for (const char c : lower(s))
    if (!std::ispunct(static_cast<unsigned char>(c))) t += c;
  std::vector<std::string> out;
  for (const auto& w : split_ws(t))
    if (w != "a" && w != "an" && w != "the") out.push_back(w);
  return out;
}
}  // namespace

double qa_f1(const std::string& prediction, const std::vector<std::string>& answers) {
  const auto p = squad_tokens(prediction);
  double best = 0;
  for (const auto& ans : answers) {
    const auto g = squad_tokens(ans);
    std::map<std::string, int> pc, gc;
    for (const auto& w : p) ++pc[w];
    for (const auto& w : g) ++gc[w];
    int same = 0;
    for (const auto& [w, n] : gc)
      if (pc.count(w)) same += std::min(n, pc[w]);
    if (same == 0) continue;
    const double prec = static_cast<double>(same) / static_cast<double>(p.size());
    const double rec = static_cast<double>(same) / static_cast<double>(g.size());
    best = std::max(best, 2 * prec * rec / (prec + rec));
  }
  return best;
}

std::vector<uint32_t> truncate_middle(const std::vector<uint32_t>& ids, uint64_t max_length) {
  if (ids.size() <= max_length) return ids;
  const uint64_t half = max_length / 2;
  std::vector<uint32_t> out(ids.begin(), ids.begin() + static_cast<long>(half));
  out.insert(out.end(), ids.end() - static_cast<long>(half), ids.end());
  return out;
}

namespace {

// Calls f(line number, parsed line) for each non-blank line of PATH; a line that is not JSON, or
// that f finds wrong (a json::exception), is one Error naming PATH:LINE and `expected`.
template <class F>
void each_json_line(const std::string& path, const std::string& expected, F f) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot read");
  std::string line;
  for (uint64_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      f(n, nlohmann::ordered_json::parse(line));
    } catch (const nlohmann::json::exception& e) {
      throw Error(path + ":" + std::to_string(n) + ": expected " + expected + " (" + e.what() + ")");
    }
  }
}

}  // namespace

std::vector<BookQaRow> read_bookqa_rows(const std::string& path) {
  std::vector<BookQaRow> rows;
  each_json_line(path, "{id, context, input, answer[]}", [&](uint64_t n, const nlohmann::ordered_json& j) {
    BookQaRow r{j.at("id").dump(), j.at("context").get<std::string>(), j.at("input").get<std::string>(), {}};
    const auto& ans = j.at("answer");
    r.answers = ans.is_array() ? ans.get<std::vector<std::string>>() : std::vector<std::string>{ans.get<std::string>()};
    if (r.answers.empty()) throw Error(path + ":" + std::to_string(n) + ": expected at least one answer");
    rows.push_back(std::move(r));
  });
  return rows;
}

BookQaResults read_bookqa_results(const std::string& path) {
  BookQaResults r;
  each_json_line(path, "{id, recall, f1, ...} (a bookqa result)", [&](uint64_t, const nlohmann::ordered_json& j) {
    const std::string id = j.at("id").dump();
    const double recall = j.at("recall").get<double>(), f1 = j.at("f1").get<double>();
    r.ids.insert(id);
    r.recall += recall;
    r.f1 += f1;
    ++r.rows;
  });
  return r;
}

}  // namespace longctx::eval
