# Convenience targets for the C library; cargo remains the build system of the crates.
#   make            link libndctl.so.6 (release) next to libndctl.a in target/release
#   make install    install it: PREFIX (/usr/local), DESTDIR, LIBDIR, INCLUDEDIR are honoured
#   make examples   build examples/c against the libndctl pkg-config finds
#   make check-c    the C-library checks of CI (scripts/ci-capi.sh)
PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include

all:
	scripts/link-libndctl.sh --release

install:
	PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" LIBDIR="$(LIBDIR)" INCLUDEDIR="$(INCLUDEDIR)" \
		scripts/install.sh

examples:
	$(MAKE) -C examples/c

check-c:
	scripts/ci-capi.sh

.PHONY: all install examples check-c
