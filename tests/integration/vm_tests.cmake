# Tests that run inside the project's throwaway cgroup v2 VM (tests/vm/cgroup2-vm), where the cgroup-v2
# driver runs for real; on a hybrid host like ours its cases skip. Included by tests/CMakeLists.txt. A
# machine where the VM cannot start (no qemu or kernel: scripts/install-deps installs them) skips them
# with exit code 77, and scripts/test then fails because the whole cgroup-v2 suite was skipped.
set(MCORE_VM_RUNNER "${PROJECT_SOURCE_DIR}/tests/vm/cgroup2-vm")

# $1 the runner, then the command to run in the VM (its /var/tmp, where tests put their roots, is tmpfs).
set(mcore_vm_run [=[
runner=$1
shift
if ! "$runner" --check; then
  echo "skipped: the cgroup v2 VM cannot start here"
  exit 77
fi
GTEST_COLOR=no exec "$runner" "$@"
]=])

# mcore_add_vm_test(<name> <test target> [gtest filter])
function(mcore_add_vm_test name target)
  set(command "$<TARGET_FILE:${target}>")
  if(ARGC GREATER 2)
    list(APPEND command "--gtest_filter=${ARGV2}")
  endif()
  add_test(NAME ${name} COMMAND sh -c "${mcore_vm_run}" cgroup2-vm-test ${MCORE_VM_RUNNER} ${command})
  set_tests_properties(${name} PROPERTIES
    LABELS "integration;vm"
    SKIP_RETURN_CODE 77
    # A run inside the VM whose every case skipped tested nothing.
    FAIL_REGULAR_EXPRESSION "\\[  PASSED  \\] 0 tests"
    TIMEOUT 600
    PROCESSORS 2)
endfunction()

# The driver's whole behaviour list, and `mcore run` end to end with "auto" picking cgroup-v2.
mcore_add_vm_test(integration_resource_driver_test_cgroup_v2_vm integration_resource_driver_test)
mcore_add_vm_test(integration_run_test_cgroup_v2_vm integration_run_test
  "RunTest.CommandRunsAsPid*:RunTest.*OomKilled:RunTest.ForkLoopStopsAtPidsLimit:RunTest.CpuLimitsAreWrittenToTheCgroup:RunTest.Devices*:RunTest.SysFsCgroupShowsTheContainersOwnLimitsReadOnly")
# mcore-oci's resources through the cgroup-v2 driver, huge page limits included.
mcore_add_vm_test(integration_oci_runtime_test_cgroup_v2_vm integration_oci_runtime_test
  "OciRuntimeTest.ResourcesAreEnforcedThroughTheResourceDriver:OciRuntimeTest.HugepageLimitsGoThroughTheResourceDriver")
if(TARGET mcore::conformance)
  mcore_add_vm_test(conformance_resource_cgroup_v2_vm conformance_resource_conformance_test
    "InTree/ResourceConformance.*/cgroup_v2")
endif()
# Rootless mcore's limits through a cgroup v2 subtree delegated to the user.
mcore_add_vm_test(integration_rootless_test_cgroup_v2_vm integration_rootless_test
  "RootlessTest.LimitsGoThroughADelegatedCgroupV2Subtree")
