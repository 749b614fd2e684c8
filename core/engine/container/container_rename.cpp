#include "engine/container/container_rename.hpp"

#include "engine/container/container_control.hpp"
#include "engine/util/scope_exit.hpp"

namespace mcore::engine {

void rename_container(ContainerStore& store, const std::string& id, const std::string& new_name) {
  const FileLock lock = store.lock(id);
  auto record = store.load(id);  // read again under the lock: a command may have changed or removed it
  if (!record)
    throw ContainerRefusal("no such container: " + id.substr(0, 12), 0, "it was removed meanwhile");
  if (record->name == new_name) {
    throw ContainerRefusal("container " + id.substr(0, 12) + " is already named \"" + new_name + "\"", 0,
                           "choose a name that differs from the current one");
  }
  try {
    store.reserve_name(new_name, id);
  } catch (const Error& error) {
    // reserve_name reports a name another container holds without an errno; with one, it failed.
    if (error.error_number() != 0) throw;
    throw ContainerRefusal(error.what(), 0, "remove or rename that container first, or choose another name");
  }
  ScopeExit release_new([&] { store.release_name(new_name, id); });
  const std::string old_name = record->name;
  record->name = new_name;
  record->spec.name = new_name;
  store.save(*record);
  release_new.dismiss();
  store.release_name(old_name, id);
}

}  // namespace mcore::engine
