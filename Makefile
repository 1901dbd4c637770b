# fieldsync: the two commands a new user needs are `make run` and `make test`.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build run test fuzz vet fmt bench clean vendor-console pdf-font

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/fieldsync ./cmd/fieldsync

# run: private PostgreSQL under ./data, local photo directory, demo city loaded on first start.
run: build
	./bin/fieldsync serve --demo

# bin/minio: the real MinIO server the tests start (built once from the Go module proxy, about
# 5 minutes on two cores; then kept). `make run` does not need it: it stores photos in ./data.
MINIO_VERSION := v0.0.0-20260212201848-7aac2a2c5b7c
bin/minio:
	GOBIN=$(CURDIR)/bin $(GO) install github.com/minio/minio@$(MINIO_VERSION)

# The official tus-js-client, which server/tusjs_test.go runs with Node against the upload routes.
TUSJS := server/testdata/tusjs
$(TUSJS)/node_modules: $(TUSJS)/package-lock.json
	cd $(TUSJS) && npm ci --no-audit --no-fund

test: bin/minio $(TUSJS)/node_modules
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...

# fuzz: the push decoder and validator, the answer validator, the photo EXIF reader and the list
# cursor decoder, briefly (CI runs it after make test).
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzPushDecode -fuzztime 30s -fuzzminimizetime 200x ./sync/
	$(GO) test -run '^$$' -fuzz FuzzValidateAnswers -fuzztime 15s -fuzzminimizetime 200x ./models/
	$(GO) test -run '^$$' -fuzz FuzzReadExif -fuzztime 15s -fuzzminimizetime 200x ./models/photofile/
	$(GO) test -run '^$$' -fuzz FuzzOpen -fuzztime 15s -fuzzminimizetime 200x ./server/cursor/

bench: bin/minio
	$(GO) test -run '^$$' -bench . -benchtime 3s ./...

# vendor-console: refetch the web console's pinned browser libraries (Leaflet, Leaflet.markercluster,
# htmx) from the npm registry and check them against server/console/assets/vendor/SHA256SUMS. The
# files are committed, so building needs no Node; this only proves (or renews) them.
vendor-console:
	server/console/vendor.sh

# pdf-font: rebuild the CJK font built into the binary for PDF reports (server/pdffont) from Debian's
# fonts-droid-fallback with fontTools (apt-get install fonts-droid-fallback python3-fonttools).
pdf-font:
	server/pdffont/subset.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
