#include "net/request_parser.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <cctype>
#include <string>

#include "net/beast_request.hpp"

namespace fleet::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

void limit_request_parser(BeastRequestParser& parser, const ServerLimits& limits) {
  parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(limits.max_header_bytes, UINT32_MAX)));
  parser.body_limit(static_cast<std::uint64_t>(
      limits.allows_large_body ? std::max(limits.max_body_bytes, limits.large_body_bytes) : limits.max_body_bytes));
}

std::string lower_case(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Request to_request(bhttp::request<bhttp::string_body>& message) {
  Request req;
  req.method = std::string(message.method_string());
  req.target = std::string(message.target());
  for (const auto& field : message) {
    auto [it, inserted] = req.headers.emplace(lower_case(field.name_string()), std::string(field.value()));
    if (!inserted) {
      it->second += ", ";
      it->second.append(field.value());
    }
  }
  req.body = std::move(message.body());
  return req;
}

Result<ParsedRequest> parse_request(std::string_view bytes, const ServerLimits& limits) {
  // Beast's in-memory stream: the read algorithm (bhttp::read_header, then bhttp::read) is the one the session's
  // async reads run, over a stream that has `bytes` and then the peer's end of stream.
  boost::asio::io_context io;
  beast::test::stream stream(io);
  stream.append(bytes);
  stream.close_remote();
  beast::flat_buffer buffer;
  BeastRequestParser parser;
  limit_request_parser(parser, limits);
  beast::error_code ec;
  bhttp::read_header(stream, buffer, parser, ec);
  if (!ec && !parser.is_done()) bhttp::read(stream, buffer, parser, ec);
  if (ec == bhttp::error::header_limit || ec == bhttp::error::body_limit) {
    return make_error(ErrorCode::kTooLarge, ec.message());
  }
  if (ec) return make_error(ErrorCode::kInvalid, ec.message());
  ParsedRequest parsed;
  parsed.keep_alive = parser.get().keep_alive();
  parsed.request = to_request(parser.get());
  parsed.consumed = stream.nread_bytes() - buffer.size();
  return parsed;
}

}  // namespace fleet::http
