// Package miniotest gives tests a real MinIO server (storage/blob/minioserver): the binary built
// into bin/minio, started on a free 127.0.0.1 port with random root credentials and its data in a
// temp directory (under /dev/shm when usable).
//
//   - Shared(t) is one server per test binary, started on first use and stopped by pgtest.Main
//     (the TestMain of every test package) at exit; NewStore(t) is a blob store on a fresh
//     bucket of it, emptied and removed when the test ends.
//   - New(t) is a server of the test's own, for tests that stop and restart MinIO (Stop,
//     Restart: same port, same data, same credentials).
//
// A MinIO never outlives its test binary: it runs in its own process group with a parent-death
// signal (Linux), and directories left by a killed test binary are removed by a later run.
// When the binary is missing, tests fail (never skip) with the command that builds it.
package miniotest

import "github.com/fieldsync/fieldsync/storage/blob/minioserver"

// Server is a running (or stopped) MinIO.
type Server = minioserver.Server

// Version is the MinIO release the tests run.
const Version = minioserver.Version

// BuildHint says how to build the MinIO binary.
const BuildHint = minioserver.BuildHint

// Binary returns the MinIO binary to run (see minioserver.Binary).
func Binary() (string, error) { return minioserver.Binary() }

// Start runs MinIO with its data under dir (see minioserver.Start).
func Start(dir string) (*Server, error) { return minioserver.Start(dir) }
