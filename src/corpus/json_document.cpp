#include "longctx/corpus/json_document.h"

#include <simdjson.h>

namespace longctx::corpus {
namespace {

const char* type_name(simdjson::dom::element_type t) {
  using T = simdjson::dom::element_type;
  switch (t) {
    case T::ARRAY: return "an array";
    case T::OBJECT: return "an object";
    case T::STRING: return "a string";
    case T::BOOL: return "a boolean";
    case T::NULL_VALUE: return "null";
    default: return "a number";
  }
}

std::vector<std::string> split_path(const std::string& dotted) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t dot = dotted.find('.', start);
    parts.push_back(dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

}  // namespace

std::string DomainSource::describe() const {
  switch (kind) {
    case kField: return "field:" + value;
    case kConstant: return "constant:" + value;
    default: return "folder";
  }
}

struct JsonDocumentParser::Impl {
  std::string text_field;
  DomainSource domain;
  std::vector<std::string> domain_path;
  bool allow_empty_text = false;
  simdjson::dom::parser parser;
};

JsonDocumentParser::JsonDocumentParser(std::string text_field, DomainSource domain, bool allow_empty_text)
    : impl_(std::make_unique<Impl>()) {
  impl_->text_field = std::move(text_field);
  impl_->allow_empty_text = allow_empty_text;
  impl_->domain = std::move(domain);
  if (impl_->domain.kind == DomainSource::kField) impl_->domain_path = split_path(impl_->domain.value);
}

JsonDocumentParser::~JsonDocumentParser() = default;

ParsedLine JsonDocumentParser::parse(std::string_view line) {
  ParsedLine r;
  auto fail = [&](std::string reason, std::string detail) {
    r.reason = std::move(reason);
    r.detail = std::move(detail);
    return r;
  };
  if (line.find_first_not_of(" \t") == std::string_view::npos) return fail("blank line", "expected a JSON object, found an empty line");
  simdjson::dom::element doc;
  if (auto err = impl_->parser.parse(line.data(), line.size(), false).get(doc)) {
    if (err == simdjson::UTF8_ERROR) return fail("invalid UTF-8", "expected a JSON object in UTF-8, found invalid UTF-8 bytes");
    return fail("invalid JSON", std::string("expected a JSON object, found invalid JSON (") + simdjson::error_message(err) + ")");
  }
  simdjson::dom::object obj;
  if (doc.get(obj)) return fail("not a JSON object", std::string("expected a JSON object, found ") + type_name(doc.type()));
  const std::string& tf = impl_->text_field;
  simdjson::dom::element field;
  if (obj.at_key(tf).get(field)) return fail("no \"" + tf + "\" field", "expected a \"" + tf + "\" field, found none");
  if (field.get(r.text))
    return fail("\"" + tf + "\" is not a string", "expected \"" + tf + "\" to be a string, found " + type_name(field.type()));
  if (r.text.empty() && !impl_->allow_empty_text) return fail("empty text", "expected a non-empty \"" + tf + "\", found an empty string");
  if (impl_->domain.kind == DomainSource::kField) {
    simdjson::dom::element cur = doc;
    bool found = true;
    for (const auto& key : impl_->domain_path) {
      simdjson::dom::object o;
      if (cur.get(o) || o.at_key(key).get(cur)) {
        found = false;
        break;
      }
    }
    if (!found) {
      r.domain = kUnknownDomain;
    } else if (cur.get(r.domain)) {
      return fail("domain is not a string",
                  "expected \"" + impl_->domain.value + "\" to be a string, found " + type_name(cur.type()));
    }
  }
  r.ok = true;
  return r;
}

}  // namespace longctx::corpus
