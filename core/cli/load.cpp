// mcore load: images from a docker-archive or oci-archive (gzip or zstd compressed too).
#include <unistd.h>

#include <iostream>
#include <memory>

#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/images.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

int load_main(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  // clang-format off
  options.add_options()
    ("input,i", po::value<std::string>(), "read from this file instead of standard input")
    ("quiet,q", po::bool_switch(), "accepted for Docker compatibility: mcore load shows no progress");
  // clang-format on
  auto parsed = parse_verb("load", "[OPTIONS]", verb_summary("load"), options, args);
  if (!parsed) return 0;
  expect_no_arguments("load", *parsed);

  std::unique_ptr<ByteSource> input;
  std::string what = "standard input";
  if (parsed->options.count("input")) {
    what = parsed->options["input"].as<std::string>();
    input = std::make_unique<engine::FileSource>(what);
  } else {
    if (::isatty(STDIN_FILENO) == 1) {
      throw Error("requested load from standard input, but it is a terminal", 0,
                  "use -i FILE, or redirect an archive into mcore load");
    }
    input = std::make_unique<engine::FdSource>(STDIN_FILENO, what);
  }

  engine::Engine& engine = context.engine();
  engine::ImageStore store(engine.config().data_root);
  std::vector<engine::ImageRecord> loaded;
  try {
    loaded = engine::load_image_archive(store, *engine.storage(), *input, engine::host_platform());
  } catch (Error& error) {
    error.add_context("load " + what);
    throw;
  }
  for (const auto& image : loaded) {
    for (const auto& name : image.names) std::cout << "Loaded image: " << name << '\n';
    if (image.names.empty()) std::cout << "Loaded image ID: " << image.id << '\n';
  }
  return 0;
}

}  // namespace mcore::cli
