/* r2e-python: the interpreter r2e installs beside its tools in a sandbox
 * without a usable python3. CPython, linked statically from Debian's
 * libpython (every builtin module compiled in); the pure-Python modules the
 * tools import are a zip archive appended to this file, which is the only
 * entry of sys.path (PYTHONPATH and PYTHONHOME do not change that), and
 * `site` is not imported, so no package of the sandbox's is found. Otherwise
 * it starts as `python3` does: the same command line (`r2e-python script.py
 * args...`, `-c`, `-m`), the same reading of the locale (in the C locale,
 * UTF-8 and LC_CTYPE=C.UTF-8 for children) and of the other PYTHON*
 * variables; no bytecode is written.
 * Linked by python_bundle.cmake; make_bundle.py appends the modules (see
 * src/tools/python_bundle/README.md). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char** argv) {
  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    fprintf(stderr, "r2e-python: cannot read /proc/self/exe to find its modules\n");
    return 127;
  }
  self[n] = '\0';

  PyPreConfig preconfig;
  PyPreConfig_InitPythonConfig(&preconfig);
  PyStatus status = Py_PreInitializeFromBytesArgs(&preconfig, argc, argv);
  if (PyStatus_Exception(status)) {
    if (PyStatus_IsExit(status)) return status.exitcode;
    Py_ExitStatusException(status);
  }

  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.site_import = 0;
  config.user_site_directory = 0;
  config.write_bytecode = 0;
  config.parse_argv = 1;
  config.install_signal_handlers = 1;
  status = PyConfig_SetBytesArgv(&config, argc, argv);
  if (PyStatus_Exception(status)) goto fail;
  wchar_t* archive = Py_DecodeLocale(self, NULL);
  if (archive == NULL) {
    fprintf(stderr, "r2e-python: cannot decode its own path\n");
    return 127;
  }
  config.module_search_paths_set = 1;
  status = PyWideStringList_Append(&config.module_search_paths, archive);
  PyMem_RawFree(archive);
  if (PyStatus_Exception(status)) goto fail;
  status = Py_InitializeFromConfig(&config);
  if (PyStatus_Exception(status)) goto fail;
  PyConfig_Clear(&config);
  return Py_RunMain();

fail:
  PyConfig_Clear(&config);
  if (PyStatus_IsExit(status)) return status.exitcode;
  Py_ExitStatusException(status);
}
