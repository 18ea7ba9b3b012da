# Installation layout and the Debian package (CPack), see docs/packaging.md.
#
#   <prefix>/bin/kiln, kiln-cli                 RPATH $ORIGIN/../lib/kiln/torch/lib
#   <prefix>/lib/kiln/torch/lib/                the pinned LibTorch's libraries (KILN_BUNDLE_LIBTORCH)
#   <prefix>/lib/kiln/nvidia/<wheel>/lib/       the CUDA runtime wheels they load ($ORIGIN/../../nvidia/...)
#   <prefix>/share/kiln/clip/                   CLIP vocabulary (MIT)
#   <prefix>/share/applications, metainfo, icons/hicolor (PNG sizes + SVG), man/man1, doc/kiln
#
# Translations and icons inside the program are compiled in as Qt resources.

include(GNUInstallDirs)
find_program(KILN_GZIP gzip REQUIRED)  # man pages and the changelog

if(KILN_LIBTORCH STREQUAL "pypi" AND KILN_TORCH_SITE)
  set(_bundle_default ON)
else()
  set(_bundle_default OFF)
endif()
option(KILN_BUNDLE_LIBTORCH "Install the pinned LibTorch (and its CUDA runtime wheels) beside the programs" ${_bundle_default})

set(KILN_PRIVATE_LIBDIR ${CMAKE_INSTALL_LIBDIR}/kiln)
set(KILN_DOCDIR ${CMAKE_INSTALL_DATADIR}/doc/kiln)
foreach(_program kiln kiln-cli)
  set_target_properties(${_program} PROPERTIES INSTALL_RPATH "$ORIGIN/../${KILN_PRIVATE_LIBDIR}/torch/lib")
endforeach()

if(KILN_BUNDLE_LIBTORCH)
  if(NOT KILN_TORCH_SITE)
    message(FATAL_ERROR "KILN_BUNDLE_LIBTORCH needs the pinned LibTorch (KILN_LIBTORCH=pypi)")
  endif()
  # LibTorch's own libraries, without the Python bindings.
  # Libraries are data to the loader: 0644 (the wheel ships them 0755).
  set(_lib_permissions FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  install(DIRECTORY ${KILN_TORCH_SITE}/torch/lib/ DESTINATION ${KILN_PRIVATE_LIBDIR}/torch/lib
          ${_lib_permissions}
          PATTERN "libtorch_python.so" EXCLUDE
          PATTERN "libshm*" EXCLUDE
          PATTERN "*.a" EXCLUDE)
  # The NVIDIA runtime wheels, where LibTorch's RPATH ($ORIGIN/../../nvidia/...) looks for them.
  file(GLOB _nvidia_libdirs LIST_DIRECTORIES true ${KILN_TORCH_SITE}/nvidia/*/lib)
  foreach(_dir ${_nvidia_libdirs})
    get_filename_component(_wheel ${_dir} DIRECTORY)
    get_filename_component(_wheel ${_wheel} NAME)
    install(DIRECTORY ${_dir}/ DESTINATION ${KILN_PRIVATE_LIBDIR}/nvidia/${_wheel}/lib
            ${_lib_permissions} FILES_MATCHING PATTERN "*.so*")
  endforeach()
  # Their licences.
  file(GLOB _licences ${KILN_TORCH_SITE}/torch-*.dist-info/licenses/* ${KILN_TORCH_SITE}/torch-*.dist-info/LICENSE*)
  if(_licences)
    install(FILES ${_licences} DESTINATION ${KILN_DOCDIR}/libtorch)
  endif()
  file(GLOB _nvidia_licences ${KILN_TORCH_SITE}/nvidia_*.dist-info/License.txt ${KILN_TORCH_SITE}/nvidia_*.dist-info/LICENSE*
       ${KILN_TORCH_SITE}/nvidia_*.dist-info/licenses/*)
  foreach(_file ${_nvidia_licences})
    get_filename_component(_info ${_file} DIRECTORY)
    get_filename_component(_info ${_info} NAME)
    if(_info STREQUAL "licenses")
      get_filename_component(_info ${_file} DIRECTORY)
      get_filename_component(_info ${_info} DIRECTORY)
      get_filename_component(_info ${_info} NAME)
    endif()
    string(REGEX REPLACE "-[0-9].*$" "" _info ${_info})
    install(FILES ${_file} DESTINATION ${KILN_DOCDIR}/nvidia/${_info})
  endforeach()
endif()

# Desktop integration.
install(FILES ${CMAKE_SOURCE_DIR}/packaging/kiln.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/io.github.kiln.Kiln.metainfo.xml DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo)
install(FILES ${CMAKE_SOURCE_DIR}/resources/icons/kiln.svg DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
find_package(Qt6 6.4 QUIET COMPONENTS Svg)
if(TARGET Qt6::Svg)
  add_executable(kiln-render-icon ${CMAKE_SOURCE_DIR}/packaging/render_icon.cpp)
  target_link_libraries(kiln-render-icon PRIVATE Qt6::Gui Qt6::Svg)
  set_target_properties(kiln-render-icon PROPERTIES AUTOMOC OFF)
  set(_icon_sizes 16 22 24 32 48 64 128 256)
  set(_icon_dir ${CMAKE_BINARY_DIR}/packaging/icons)
  set(_icon_outputs)
  foreach(_size ${_icon_sizes})
    list(APPEND _icon_outputs ${_icon_dir}/${_size}x${_size}/apps/kiln.png)
  endforeach()
  add_custom_command(OUTPUT ${_icon_outputs}
                     COMMAND kiln-render-icon ${CMAKE_SOURCE_DIR}/resources/icons/kiln.svg ${_icon_dir} ${_icon_sizes}
                     DEPENDS kiln-render-icon ${CMAKE_SOURCE_DIR}/resources/icons/kiln.svg
                     COMMENT "Rendering the application icon's PNG sizes" VERBATIM)
  add_custom_target(kiln_icons_png ALL DEPENDS ${_icon_outputs})
  install(DIRECTORY ${_icon_dir}/ DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor)
else()
  message(STATUS "Kiln: Qt6 Svg not found: only the SVG icon is installed")
endif()

# Man pages from the programs' own --help (help2man), so they say what the programs do.
find_program(KILN_HELP2MAN help2man)
if(KILN_HELP2MAN)
  set(_man_dir ${CMAKE_BINARY_DIR}/packaging/man)
  add_custom_command(OUTPUT ${_man_dir}/kiln.1.gz ${_man_dir}/kiln-cli.1.gz
                     COMMAND ${CMAKE_COMMAND} -E make_directory ${_man_dir}
                     COMMAND ${CMAKE_COMMAND} -E env QT_QPA_PLATFORM=offscreen KILN_THREADS=1
                             ${KILN_HELP2MAN} --no-info --no-discard-stderr --version-string=${PROJECT_VERSION}
                             --name "desktop studio for personal Stable Diffusion models" --section 1
                             --output ${_man_dir}/kiln.1 $<TARGET_FILE:kiln>
                     COMMAND ${CMAKE_COMMAND} -E env QT_QPA_PLATFORM=offscreen KILN_THREADS=1
                             ${KILN_HELP2MAN} --no-info --no-discard-stderr --version-string=${PROJECT_VERSION}
                             --name "Kiln's Stable Diffusion engine without the GUI" --section 1
                             --output ${_man_dir}/kiln-cli.1 $<TARGET_FILE:kiln-cli>
                     COMMAND ${KILN_GZIP} -9nf ${_man_dir}/kiln.1 ${_man_dir}/kiln-cli.1
                     DEPENDS kiln kiln-cli
                     COMMENT "Writing the man pages from --help" VERBATIM)
  add_custom_target(kiln_man_pages ALL DEPENDS ${_man_dir}/kiln.1.gz ${_man_dir}/kiln-cli.1.gz)
  install(FILES ${_man_dir}/kiln.1.gz ${_man_dir}/kiln-cli.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "Kiln: help2man not found: no man pages (scripts/setup-debian.sh installs it)")
endif()
install(FILES ${CMAKE_SOURCE_DIR}/COPYING ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/packaging/copyright
        DESTINATION ${KILN_DOCDIR})
install(FILES ${CMAKE_SOURCE_DIR}/resources/clip/LICENSE DESTINATION ${KILN_DOCDIR}/clip)
# Debian wants a changelog in every package.
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/packaging/changelog.gz
                   COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/packaging
                   COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_SOURCE_DIR}/packaging/changelog ${CMAKE_BINARY_DIR}/packaging/changelog
                   COMMAND ${KILN_GZIP} -9nf ${CMAKE_BINARY_DIR}/packaging/changelog
                   DEPENDS ${CMAKE_SOURCE_DIR}/packaging/changelog VERBATIM)
add_custom_target(kiln_changelog ALL DEPENDS ${CMAKE_BINARY_DIR}/packaging/changelog.gz)
install(FILES ${CMAKE_BINARY_DIR}/packaging/changelog.gz DESTINATION ${KILN_DOCDIR})

# The Debian package: scripts/package.sh.
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "kiln")
set(CPACK_PACKAGE_VENDOR "Kiln")
set(CPACK_PACKAGE_CONTACT "Kiln developers <kiln@users.noreply.github.com>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "desktop studio for personal Stable Diffusion models")
set(CPACK_PACKAGE_DESCRIPTION "Prepare datasets, fine-tune (DreamBooth, LoRA) and generate
(txt2img, img2img, inpainting, ControlNet) with your own Stable Diffusion
1.5, 2.1 and SDXL models. Includes kiln-cli, the same engine without the GUI.
Carries the CUDA build of LibTorch it was built with: runs on the CPU, and
on NVIDIA GPUs with the proprietary driver installed.")
set(CPACK_PACKAGE_FILE_NAME "kiln_${PROJECT_VERSION}_amd64")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "graphics")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE "amd64")
# Depends: scripts/package.sh adds what dpkg-shlibdeps computes from the two programs (Qt, OpenCV,
# dlib, QuaZip ...; -D CPACK_DEBIAN_PACKAGE_DEPENDS=...). Not CPack's own SHLIBDEPS: it would also
# scan the bundled NVIDIA libraries, some of which need the driver's libcuda.so.1, which CPU users
# do not have and which LibTorch opens only when a GPU is used. Below: what plugin loading needs.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libqt6svg6, libdlib-data")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "qt6-qpa-plugins, qt6-image-formats-plugins, qt6-wayland")
set(CPACK_DEBIAN_COMPRESSION_TYPE "zstd")
set(CPACK_THREADS 0)
# Kiln's own programs stripped; the bundled libraries are shipped as upstream built them.
set(CPACK_STRIP_FILES "bin/kiln;bin/kiln-cli")
set(CPACK_SET_DESTDIR OFF)
if(NOT CPACK_PACKAGING_INSTALL_PREFIX)
  set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
endif()
include(CPack)
