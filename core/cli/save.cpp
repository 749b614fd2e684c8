// mcore save: images into one tar archive, docker-archive (which is an OCI layout too) or oci-archive.
#include <unistd.h>

#include <iostream>

#include "cli/image_names.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/images.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

int save_main(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  // clang-format off
  options.add_options()
    ("output,o", po::value<std::string>(), "write to this file instead of standard output")
    ("format", po::value<std::string>()->default_value("docker-archive"), "docker-archive or oci-archive");
  // clang-format on
  auto parsed = parse_verb("save", "[OPTIONS] IMAGE [IMAGE...]", verb_summary("save"), options, args);
  if (!parsed) return 0;
  if (parsed->positionals.empty())
    throw Error("mcore save needs at least one image", 0, "see 'mcore save --help'");
  const engine::ArchiveFormat format =
      engine::parse_archive_format(parsed->options["format"].as<std::string>());
  const bool to_file = parsed->options.count("output") != 0;
  if (!to_file && ::isatty(STDOUT_FILENO) == 1) {
    throw Error("cowardly refusing to write an archive to a terminal", 0,
                "use -o FILE or redirect the output");
  }

  engine::ImageStore store(context.engine().config().data_root);
  // Every image is found before the output exists: a typo creates no file.
  std::vector<engine::ImageToSave> images;
  for (const auto& text : parsed->positionals) {
    auto image = engine::resolve_image(store, text);
    if (!image) throw Error("No such image: " + text, 0, "'mcore images' lists the local images");
    // Like Docker: an image saved by name carries that name; by id, none.
    const auto name = matched_name(*image, text);
    images.push_back(
        {std::move(*image), name ? std::vector<std::string>{*name} : std::vector<std::string>{}});
  }

  if (to_file) {
    engine::AtomicFileSink file(parsed->options["output"].as<std::string>());
    engine::write_image_archive(store, images, format, file);
    file.commit();
  } else {
    engine::FdSink out(STDOUT_FILENO, "standard output");
    engine::write_image_archive(store, images, format, out);
  }
  return 0;
}

}  // namespace mcore::cli
