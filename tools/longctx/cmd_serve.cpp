// longctx serve: an OpenAI-compatible completions server on the in-process engine (cpp-httplib).
// Loopback by default; request bodies above --max-request-bytes get 413; a bad request gets a 4xx
// JSON error and the server keeps serving.
#include <httplib.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "longctx/serve/completions.h"
#include "longctx/util/error.h"

namespace longctx::cli {
namespace {

struct ServeArgs {
  std::string model, host = "127.0.0.1", tokenizer;
  int port = 8080;
  uint64_t max_request_bytes = 64 << 20, max_context = 0, dynamic_pin = 0;
  double rope_theta = 0;
};

// OpenAI's error shape: {"error": {"message", "type", "param" (the field, or null), "code"}}.
std::string error_body(const std::string& message, int status, const std::string& param = "") {
  const char* type = status == 404 ? "not_found_error" : status >= 500 ? "server_error" : "invalid_request_error";
  nlohmann::json j = {{"error", {{"message", message}, {"type", type}, {"param", param.empty() ? nlohmann::json() : nlohmann::json(param)}, {"code", status}}}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// What httplib's own refusals (no route, unreadable request, too large) say.
std::string http_error_message(const httplib::Request& req, int status) {
  switch (status) {
    case 404: return "not found: " + req.method + " " + req.path + " (this server has GET /health, GET /v1/models, POST /v1/completions)";
    case 405: return "method not allowed: " + req.method + " " + req.path;
    case 413: return "request too large";
    case 400: return "request body: the HTTP request could not be read (a POST needs a Content-Length and a JSON object as its body)";
    default: return "HTTP error " + std::to_string(status);
  }
}

int run(const ServeArgs& a) {
  auto m = model::Model::load(a.model, {a.rope_theta, a.dynamic_pin});
  const std::string tok_path = a.tokenizer.empty() ? a.model + "/tokenizer.json" : a.tokenizer;
  std::shared_ptr<const tokenizer::Tokenizer> tok;
  if (std::filesystem::exists(tok_path)) tok = tokenizer::Tokenizer::load(tok_path);
  const uint64_t ctx = a.max_context ? a.max_context : std::max<uint64_t>(m->config().max_position_embeddings, 4096);
  const std::string name = std::filesystem::path(a.model).filename().string().empty() ? std::filesystem::path(a.model).parent_path().filename().string()
                                                                                       : std::filesystem::path(a.model).filename().string();
  serve::Completions api(std::move(m), tok, name, ctx);
  httplib::Server svr;
  svr.set_payload_max_length(a.max_request_bytes);
  svr.Get("/health", [](const httplib::Request&, httplib::Response& res) { res.set_content("{\"status\": \"ok\"}", "application/json"); });
  svr.Get("/v1/models", [&](const httplib::Request&, httplib::Response& res) { res.set_content(api.models(), "application/json"); });
  svr.Post("/v1/completions", [&](const httplib::Request& req, httplib::Response& res) {
    try {
      res.set_content(api.complete(req.body), "application/json");
    } catch (const serve::BadRequest& e) {
      res.status = e.status;
      res.set_content(error_body(e.message, e.status, e.param), "application/json");
    } catch (const std::exception& e) {
      res.status = 500;
      res.set_content(error_body(std::string("internal error: ") + e.what(), 500), "application/json");
    } catch (...) {
      res.status = 500;
      res.set_content(error_body("internal error", 500), "application/json");
    }
  });
  svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.body.empty()) res.set_content(error_body(http_error_message(req, res.status), res.status), "application/json");
  });
  int port = a.port;
  if (port == 0) {
    port = svr.bind_to_any_port(a.host);
  } else if (!svr.bind_to_port(a.host, port)) {
    port = -1;
  }
  if (port < 0) throw Error(a.host + ":" + std::to_string(a.port) + ": cannot listen (in use, or not an address of this machine)");
  std::fprintf(stderr, "serve: %s on http://%s:%d (context %llu tokens)\n", name.c_str(), a.host.c_str(), port,
               static_cast<unsigned long long>(ctx));
  std::fflush(stderr);
  svr.listen_after_bind();
  return 0;
}

}  // namespace

Run add_serve(CLI::App& app) {
  auto a = std::make_shared<ServeArgs>();
  auto* sub = app.add_subcommand("serve", "an OpenAI-compatible completions server (/v1/completions, /v1/models, /health)");
  sub->add_option("--model", a->model, "Hugging Face checkpoint folder")->required();
  sub->add_option("--host", a->host, "address to listen on (loopback by default)")->capture_default_str();
  sub->add_option("--port", a->port, "port (0: any free one; the chosen one is printed)")->capture_default_str();
  sub->add_option("--tokenizer", a->tokenizer, "tokenizer.json (default: the model folder's)");
  sub->add_option("--max-request-bytes", a->max_request_bytes, "larger request bodies get 413")->capture_default_str();
  sub->add_option("--max-context", a->max_context, "prompt + max_tokens limit (default: max(max_position_embeddings, 4096))");
  sub->add_option("--rope-theta", a->rope_theta, "override config.json's rope_theta");
  sub->add_option("--dynamic-pin", a->dynamic_pin, "dynamic NTK: compute the table once for this length");
  return [a] { return run(*a); };
}

}  // namespace longctx::cli
