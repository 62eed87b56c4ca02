//go:build linux

package bpf

import (
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// Mode says how the programs are attached.
type Mode string

// ModeTCX: TCX links (Linux 6.6+), detached when the link is closed or
// the process exits.
const ModeTCX Mode = "tcx"

// Attach attaches the program to ingress and egress of the interface. The
// returned closer detaches both.
func (o *Objects) Attach(ifname string) (io.Closer, Mode, error) {
	iface, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, "", fmt.Errorf("attach to %s: %w", ifname, err)
	}
	in, err := link.AttachTCX(link.TCXOptions{
		Interface: iface.Index,
		Program:   o.objs.FlowIngress,
		Attach:    ebpf.AttachTCXIngress,
	})
	if err != nil {
		return nil, "", attachError(ifname, "ingress", err)
	}
	out, err := link.AttachTCX(link.TCXOptions{
		Interface: iface.Index,
		Program:   o.objs.FlowEgress,
		Attach:    ebpf.AttachTCXEgress,
	})
	if err != nil {
		in.Close()
		return nil, "", attachError(ifname, "egress", err)
	}
	return links{in, out}, ModeTCX, nil
}

func attachError(ifname, hook string, err error) error {
	if errors.Is(err, ebpf.ErrNotSupported) {
		// The legacy tc clsact fallback is not written yet.
		return fmt.Errorf("attach TCX %s to %s: needs Linux 6.6+: %w", hook, ifname, err)
	}
	return fmt.Errorf("attach TCX %s to %s: %w", hook, ifname, err)
}

type links []link.Link

func (l links) Close() error {
	var errs []error
	for _, k := range l {
		errs = append(errs, k.Close())
	}
	return errors.Join(errs...)
}

