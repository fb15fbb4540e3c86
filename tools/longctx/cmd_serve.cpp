// longctx serve: an OpenAI-compatible completions server on the in-process engine (cpp-httplib).
// Loopback by default; request bodies above --max-request-bytes get 413; a bad request gets a 4xx
// JSON error and the server keeps serving.
#include <httplib.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <mutex>
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

void reply_error(httplib::Response& res, int status, const std::string& message, const std::string& param = "") {
  res.status = status;
  res.set_content(error_body(message, status, param), "application/json");
}

// stream: true: server-sent events through httplib's chunked content provider, which runs after
// the handler returns, on the connection's thread. A write that fails (the client is gone) stops
// generation; the server logs it and carries on.
void reply_stream(serve::Completions& api, serve::Request req, httplib::Response& res) {
  auto shared = std::make_shared<serve::Request>(std::move(req));
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream", [&api, shared](size_t, httplib::DataSink& sink) {
    // One streamed response written at a time, its last chunk included: ThreadSanitizer finds
    // cpp-httplib 0.11's chunked writes of two connections racing on memory of the library's
    // (make test-tsan); generation is one at a time anyway.
    static std::mutex writing;
    std::lock_guard lock(writing);
    serve::StreamEnd end;
    try {
      end = api.stream(*shared, [&](const std::string& event) { return sink.write(event.data(), event.size()); });
    } catch (const std::exception& e) {
      // Headers are sent: the error can only be an event of its own.
      const std::string event = "data: " + error_body(std::string("internal error: ") + e.what(), 500) + "\n\n";
      sink.write(event.data(), event.size());
    }
    if (end.client_gone) {
      std::fprintf(stderr, "serve: %s: the client disconnected after %llu tokens; generation stopped\n", end.id.c_str(),
                   static_cast<unsigned long long>(end.tokens));
      return false;
    }
    sink.done();
    return true;
  });
}

void handle_completions(serve::Completions& api, const httplib::Request& http, httplib::Response& res) {
  try {
    serve::Request req = api.parse(http.body);
    if (req.stream) return reply_stream(api, std::move(req), res);
    res.set_content(api.complete(req), "application/json");
  } catch (const serve::BadRequest& e) {
    reply_error(res, e.status, e.message, e.param);
  } catch (const std::exception& e) {
    reply_error(res, 500, std::string("internal error: ") + e.what());
  } catch (...) {
    reply_error(res, 500, "internal error");
  }
}

int run(const ServeArgs& a) {
  // A client that disconnects mid-stream must fail the write, not kill the server.
  std::signal(SIGPIPE, SIG_IGN);
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
  svr.Post("/v1/completions", [&](const httplib::Request& req, httplib::Response& res) { handle_completions(api, req, res); });
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
