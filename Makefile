# fieldsync: the two commands a new user needs are `make run` and `make test`.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build run test fuzz vet fmt bench clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/fieldsync ./cmd/fieldsync

# run: private PostgreSQL under ./data, local photo directory, demo city loaded on first start.
run: build
	./bin/fieldsync serve --demo

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...

# fuzz: the push decoder and validator, and the photo EXIF reader, briefly (CI runs it after make test).
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzPushDecode -fuzztime 30s -fuzzminimizetime 200x ./sync/
	$(GO) test -run '^$$' -fuzz FuzzReadPhotoExif -fuzztime 15s -fuzzminimizetime 200x ./models/

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3s ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
