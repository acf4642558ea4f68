// Edit series 00: build against Debian's system libraries instead of meson subprojects.
// Why: the stock build downloads openssl, libuv, libsrtp2, usrsctp, abseil and catch2
// sources (wrap files); this machine only reaches npm and Debian. mediasoup 3.12.16's bundled
// dep versions match Debian bookworm's packages (see DESIGN.md "mediasoup on a machine
// without internet"). Upstream: none (mediasoup vendors its deps on purpose).

/** @type {import('./edits.mjs').Edit[]} */
export default [
  {
    id: 'meson-version',
    target: 'worker',
    file: 'meson.build',
    why: 'Debian bookworm ships meson 1.0.1; nothing in this meson.build needs 1.1.',
    find: "meson_version: '>= 1.1.0',",
    replace: "meson_version: '>= 1.0.0',",
  },
  {
    id: 'meson-system-deps',
    target: 'worker',
    file: 'meson.build',
    why: 'Replace every subproject() with the system dependency() from pkg-config. Debian puts srtp.h in <includedir>/srtp2 while mediasoup includes <srtp.h>. catch2 only serves the (unbuilt) test binaries, so it becomes optional.',
    find: `openssl_proj = subproject(
  'openssl',
  default_options: [
    'warning_level=0',
  ],
)
nlohmann_json_proj = subproject(
  'nlohmann_json',
  default_options: [
    'warning_level=0',
  ],
)
libuv_proj = subproject(
  'libuv',
  default_options: [
    'warning_level=0',
    'build_tests=false',
    'build_benchmarks=false',
  ],
)
libsrtp2_proj = subproject(
  'libsrtp2',
  default_options: [
    'warning_level=0',
    'crypto-library=openssl',
    'crypto-library-kdf=disabled',
    'tests=disabled',
  ],
)
usrsctp_proj = subproject(
  'usrsctp',
  default_options: [
    'warning_level=0',
    'sctp_build_programs=false',
  ],
)
abseil_cpp_proj = subproject(
  'abseil-cpp',
  default_options: [
    'warning_level=0',
  ],
)
catch2_proj = subproject(
  'catch2',
  default_options: [
    'warning_level=0',
  ],
)
`,
    replace: `openssl_dep = dependency('openssl')
nlohmann_json_dep = dependency('nlohmann_json')
libuv_dep = dependency('libuv')
libsrtp2_sys_dep = dependency('libsrtp2')
libsrtp2_dep = declare_dependency(
  dependencies: libsrtp2_sys_dep,
  compile_args: ['-I' + libsrtp2_sys_dep.get_variable(pkgconfig: 'includedir') / 'srtp2'],
)
usrsctp_dep = dependency('usrsctp')
absl_deps = [
  dependency('absl_flat_hash_map'),
  dependency('absl_flat_hash_set'),
  dependency('absl_btree'),
  dependency('absl_inlined_vector'),
  dependency('absl_memory'),
  dependency('absl_strings'),
  dependency('absl_optional'),
]
catch2_dep = dependency('catch2-with-main', required: false)
`,
  },
  {
    id: 'meson-dependencies-list',
    target: 'worker',
    file: 'meson.build',
    why: 'Link the worker against the system dependencies declared above.',
    find: `dependencies = [
  abseil_cpp_proj.get_variable('absl_container_dep'),
  openssl_proj.get_variable('openssl_dep'),
  nlohmann_json_proj.get_variable('nlohmann_json_dep'),
  libuv_proj.get_variable('libuv_dep'),
  libsrtp2_proj.get_variable('libsrtp2_dep'),
  usrsctp_proj.get_variable('usrsctp_dep'),
  libwebrtc_dep,
]`,
    replace: `dependencies = absl_deps + [
  openssl_dep,
  nlohmann_json_dep,
  libuv_dep,
  libsrtp2_dep,
  usrsctp_dep,
  libwebrtc_dep,
]`,
  },
  {
    id: 'meson-link-whole',
    target: 'worker',
    file: 'meson.build',
    why: 'System libraries are linked as shared libraries; only our own libwebrtc stays whole-linked.',
    find: `link_whole = [
  abseil_cpp_proj.get_variable('absl_container_lib'),
  openssl_proj.get_variable('libcrypto_lib'),
  openssl_proj.get_variable('libssl_lib'),
  libuv_proj.get_variable('libuv'),
  libsrtp2_proj.get_variable('libsrtp2'),
  usrsctp_proj.get_variable('usrsctp'),
  libwebrtc,
]`,
    replace: `link_whole = [
  libwebrtc,
]`,
  },
  {
    id: 'meson-catch2-optional',
    target: 'worker',
    file: 'meson.build',
    why: 'The test binaries (never built here) use the optional system catch2.',
    find: "    catch2_proj.get_variable('catch2_dep'),\n",
    replace: '    catch2_dep,\n',
    count: 2,
  },
  {
    id: 'libwebrtc-meson-system-deps',
    target: 'worker',
    file: 'deps/libwebrtc/meson.build',
    why: 'Same as meson-system-deps for the bundled libwebrtc subset.',
    find: `abseil_cpp_proj = subproject(
  'abseil-cpp',
  default_options: [
    'warning_level=0',
  ],
)
`,
    replace: `absl_webrtc_deps = [
  dependency('absl_strings'),
  dependency('absl_optional'),
]
`,
  },
  {
    id: 'libwebrtc-meson-lib-deps',
    target: 'worker',
    file: 'deps/libwebrtc/meson.build',
    why: 'libwebrtc library: use the system dependencies.',
    find: `    openssl_proj.get_variable('openssl_dep'),
    abseil_cpp_proj.get_variable('absl_strings_dep'),
    abseil_cpp_proj.get_variable('absl_types_dep'),
    nlohmann_json_proj.get_variable('nlohmann_json_dep'),
    libuv_proj.get_variable('libuv_dep'),
  ],`,
    replace: `    openssl_dep,
    nlohmann_json_dep,
    libuv_dep,
  ] + absl_webrtc_deps,`,
  },
  {
    id: 'libwebrtc-meson-dep-absl',
    target: 'worker',
    file: 'deps/libwebrtc/meson.build',
    why: 'libwebrtc_dep: propagate the system abseil dependencies.',
    find: `    local_include_directories,
    abseil_cpp_proj.get_variable('absl_strings_dep'),
    abseil_cpp_proj.get_variable('absl_types_dep'),
  ],`,
    replace: `    local_include_directories,
  ] + absl_webrtc_deps,`,
  },
];
