package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/device"
	"github.com/google/uuid"
)

func cmdPhotoAdd(e *env, fs *flag.FlagSet) func([]string) error {
	finding := fs.String("finding", "", "the finding the photo shows (one of the visit's)")
	caption := fs.String("caption", "", "caption")
	at := fs.String("time", "", "when it was taken (RFC 3339; default now)")
	pos := addPosition(fs)
	return func(args []string) error {
		vid, err := parseID(args, "VISIT")
		if err != nil {
			return err
		}
		if err := need(args, 2, "FILE"); err != nil {
			return err
		}
		in := device.PhotoInput{VisitID: vid, Caption: *caption, Position: pos.get(fs)}
		if *finding != "" {
			fid, err := uuid.Parse(*finding)
			if err != nil {
				return fmt.Errorf("--finding %q is not a UUID", *finding)
			}
			in.FindingID = &fid
		}
		if *at != "" {
			if in.CapturedAt, err = time.Parse(time.RFC3339, *at); err != nil {
				return fmt.Errorf("--time: %w", err)
			}
		}
		d, err := e.open()
		if err != nil {
			return err
		}
		defer d.Close()
		var ids []string
		for _, path := range args[1:] {
			in.Path = path
			id, err := d.AddPhoto(e.ctx, in)
			if err != nil {
				return err
			}
			ids = append(ids, id.String())
		}
		return e.out(map[string][]string{"ids": ids}, strings.Join(ids, "\n")+"\n")
	}
}

func cmdTrackImport(e *env, fs *flag.FlagSet) func([]string) error {
	return func(args []string) error {
		vid, err := parseID(args, "VISIT")
		if err != nil {
			return err
		}
		if err := need(args, 2, "FILE.gpx"); err != nil {
			return err
		}
		f, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer f.Close()
		d, err := e.open()
		if err != nil {
			return err
		}
		defer d.Close()
		res, err := d.ImportTrack(e.ctx, vid, f)
		if err != nil {
			return err
		}
		return e.out(res, fmt.Sprintf("queued %d points in %d track.append chunks\n", res.Points, res.Chunks))
	}
}
