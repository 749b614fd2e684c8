# Tests that run inside vmrun's throwaway cgroup v2 VM (../shared/tools/vmrun), where the cgroup-v2 driver
# runs for real; on this hybrid host its cases skip. Included by tests/CMakeLists.txt after the
# integration tests are defined. A machine without `vmrun --setup` skips them (exit code 77).
set(MCORE_VMRUN "${PROJECT_SOURCE_DIR}/../shared/tools/vmrun/vmrun" CACHE FILEPATH
    "vmrun: runs a command in a cgroup v2 VM")

# $1 vmrun, $2 the command line to run in the VM. VMRUN_TMPFS: the test's temporary roots live under /var/tmp.
set(mcore_vm_run [=[
if [ ! -x "$1" ] || [ ! -f "${VMRUN_CACHE:-/var/cache/vmrun}/stamp" ] ||
   ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
  echo "skipped: vmrun is not set up here; run $1 --setup once"
  exit 77
fi
VMRUN_TMPFS=/var/tmp exec "$1" "$2"
]=])

# mcore_add_vm_test(<name> <test target> [gtest filter])
function(mcore_add_vm_test name target)
  set(command "$<TARGET_FILE:${target}>")
  if(ARGC GREATER 2)
    set(command "${command} --gtest_filter=${ARGV2}")
  endif()
  add_test(NAME ${name} COMMAND sh -c "${mcore_vm_run}" vmrun-test ${MCORE_VMRUN} ${command})
  set_tests_properties(${name} PROPERTIES
    LABELS "integration;vm"
    SKIP_RETURN_CODE 77
    TIMEOUT 600
    PROCESSORS 2)
endfunction()

# The driver's whole behaviour list, and `mcore run` end to end with "auto" picking cgroup-v2.
mcore_add_vm_test(integration_resource_driver_test_cgroup_v2_vm integration_resource_driver_test)
mcore_add_vm_test(integration_run_test_cgroup_v2_vm integration_run_test
  "RunTest.CommandRunsAsPid*:RunTest.*OomKilled:RunTest.ForkLoopStopsAtPidsLimit:RunTest.CpuLimitsAreWrittenToTheCgroup:RunTest.Devices*:RunTest.SysFsCgroupShowsTheContainersOwnLimitsReadOnly")
