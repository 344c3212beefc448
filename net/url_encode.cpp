#include "net/url_encode.hpp"

#include <ostream>  // Boost.Core string_view streams without including it

#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url.hpp>
#include <stdexcept>

namespace fleet::http {

std::string url_encode(std::string_view text) {
  return boost::urls::encode(boost::urls::string_view(text.data(), text.size()), boost::urls::unreserved_chars);
}

std::string with_query(std::string_view target,
                       std::initializer_list<std::pair<std::string_view, std::string_view>> params) {
  auto parsed = boost::urls::parse_relative_ref(boost::urls::string_view(target.data(), target.size()));
  if (!parsed) throw std::invalid_argument("with_query: not a URL path: " + std::string(target));
  boost::urls::url url(*parsed);
  for (const auto& [key, value] : params) {
    const std::string k = url_encode(key);
    const std::string v = url_encode(value);
    url.encoded_params().append(boost::urls::param_pct_view(k, v));
  }
  return std::string(url.buffer());
}

}  // namespace fleet::http
