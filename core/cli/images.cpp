// mcore images: the local images, one row per name, like `docker images`.
#include <algorithm>
#include <ctime>
#include <iostream>
#include <set>

#include "cli/image_format.hpp"
#include "cli/output.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/images.hpp"
#include "mcore/image_reference.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

namespace {

struct ImageRow {
  std::string repository = "<none>";
  std::string tag = "<none>";
  std::string digest = "<none>";
  const engine::ImageRecord* image = nullptr;
};

// The digest this repository was pulled by, from the image's repo digests.
std::string digest_for(const engine::ImageRecord& image, const ImageReference& reference) {
  for (const auto& repo_digest : image.repo_digests) {
    try {
      const auto pulled = parse_image_reference(repo_digest);
      if (pulled.registry == reference.registry && pulled.repository == reference.repository) return pulled.digest;
    } catch (const Error&) {
    }
  }
  return "<none>";
}

std::vector<ImageRow> rows_of(const engine::ImageRecord& image) {
  std::vector<ImageRow> rows;
  for (const auto& name : image.names) {
    ImageRow row{.image = &image};
    try {
      auto reference = parse_image_reference(name);
      row.digest = reference.digest.empty() ? digest_for(image, reference) : reference.digest;
      if (!reference.tag.empty()) row.tag = reference.tag;
      reference.tag.clear();
      reference.digest.clear();
      row.repository = familiar_name(reference);
    } catch (const Error&) {
      row.repository = name;  // stored before a parser change: show it as is
    }
    rows.push_back(row);
  }
  if (rows.empty()) rows.push_back({.image = &image});
  return rows;
}

}  // namespace

int images_main(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  // clang-format off
  options.add_options()
    ("quiet,q", po::bool_switch(), "only show image IDs")
    ("digests", po::bool_switch(), "show digests")
    ("no-trunc", po::bool_switch(), "don't truncate output");
  // clang-format on
  add_format_option(options);
  auto parsed = parse_verb("images", "[OPTIONS]", verb_summary("images"), options, args);
  if (!parsed) return 0;
  expect_no_arguments("images", *parsed);
  const OutputFormat format = output_format("images", *parsed);
  const bool quiet = parsed->options["quiet"].as<bool>();
  const bool digests = parsed->options["digests"].as<bool>();
  const bool no_trunc = parsed->options["no-trunc"].as<bool>();

  engine::ImageStore store(context.engine().config().data_root);
  auto images = store.list();
  // Newest first, as Docker lists them (RFC 3339 UTC strings sort by time).
  std::stable_sort(images.begin(), images.end(), [](const auto& a, const auto& b) {
    const auto ta = parse_rfc3339(a.created).value_or(0);
    const auto tb = parse_rfc3339(b.created).value_or(0);
    return ta > tb;
  });

  if (quiet) {
    std::set<std::string> printed;
    for (const auto& image : images) {
      if (printed.insert(image.id).second) std::cout << short_id(image.id, no_trunc) << '\n';
    }
    return 0;
  }

  const std::time_t now = std::time(nullptr);
  std::vector<ImageRow> rows;
  for (const auto& image : images) {
    for (auto& row : rows_of(image)) rows.push_back(std::move(row));
  }

  if (format == OutputFormat::json) {
    auto out = nlohmann::json::array();
    for (const auto& row : rows) {
      out.push_back({{"Repository", row.repository},
                     {"Tag", row.tag},
                     {"Digest", row.digest},
                     {"ID", short_id(row.image->id, no_trunc)},
                     {"CreatedAt", row.image->created},
                     {"CreatedSince", created_since(row.image->created, now)},
                     {"Size", human_size(static_cast<double>(row.image->size))}});
    }
    std::cout << out.dump(2) << '\n';
    return 0;
  }

  std::vector<std::vector<std::string>> table;
  if (digests) {
    table.push_back({"REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"});
  } else {
    table.push_back({"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"});
  }
  for (const auto& row : rows) {
    std::vector<std::string> line = {row.repository, row.tag};
    if (digests) line.push_back(row.digest);
    line.push_back(short_id(row.image->id, no_trunc));
    line.push_back(created_since(row.image->created, now));
    line.push_back(human_size(static_cast<double>(row.image->size)));
    table.push_back(std::move(line));
  }
  print_table(std::cout, table);
  return 0;
}

}  // namespace mcore::cli
