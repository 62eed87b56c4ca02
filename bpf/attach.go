//go:build linux

package bpf

import (
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Mode says how the programs are attached.
type Mode string

const (
	// ModeAuto asks for TCX and falls back to ModeTC only when the
	// kernel does not support TCX (ebpf.ErrNotSupported).
	ModeAuto Mode = "auto"
	// ModeTCX: TCX links (Linux 6.6+). The kernel detaches them when
	// the link is closed or the process exits, also after a crash.
	ModeTCX Mode = "tcx"
	// ModeTC: cls_bpf filters in direct-action mode on a clsact qdisc
	// (Linux 4.5+). Filters outlive the process: Close removes them, and
	// after a crash the next Attach replaces the stale ones (they carry
	// Outflow's name and priority). The clsact qdisc is left in place,
	// since other tools may hang filters on it.
	ModeTC Mode = "tc"
)

// ParseMode checks a configured mode.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeAuto, ModeTCX, ModeTC:
		return m, nil
	case "":
		return ModeAuto, nil
	}
	return "", fmt.Errorf("unknown attach mode %q (want auto, tcx or tc)", s)
}

// Attach attaches the programs to ingress and egress of the interface,
// with TCX when the kernel has it, else with legacy tc. The returned
// closer detaches both; the Mode says which was used.
func (o *Objects) Attach(ifname string) (io.Closer, Mode, error) {
	return o.AttachMode(ifname, ModeAuto)
}

// AttachMode attaches with the given mode; ModeAuto tries TCX first.
func (o *Objects) AttachMode(ifname string, mode Mode) (io.Closer, Mode, error) {
	iface, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, "", fmt.Errorf("attach to %s: %w", ifname, err)
	}
	switch mode {
	case ModeTC:
		c, err := o.attachTC(iface)
		return c, ModeTC, err
	case ModeTCX, ModeAuto:
		c, err := o.attachTCX(iface)
		if err == nil {
			return c, ModeTCX, nil
		}
		if mode == ModeAuto && errors.Is(err, ebpf.ErrNotSupported) {
			c, tcErr := o.attachTC(iface)
			if tcErr != nil {
				return nil, "", fmt.Errorf("%w; legacy tc fallback: %w", err, tcErr)
			}
			return c, ModeTC, nil
		}
		return nil, "", err
	}
	return nil, "", fmt.Errorf("attach to %s: unknown mode %q", ifname, mode)
}

func (o *Objects) attachTCX(iface *net.Interface) (io.Closer, error) {
	in, err := link.AttachTCX(link.TCXOptions{
		Interface: iface.Index,
		Program:   o.objs.FlowIngress,
		Attach:    ebpf.AttachTCXIngress,
	})
	if err != nil {
		return nil, attachError(iface.Name, "ingress", err)
	}
	out, err := link.AttachTCX(link.TCXOptions{
		Interface: iface.Index,
		Program:   o.objs.FlowEgress,
		Attach:    ebpf.AttachTCXEgress,
	})
	if err != nil {
		in.Close()
		return nil, attachError(iface.Name, "egress", err)
	}
	return links{in, out}, nil
}

func attachError(ifname, hook string, err error) error {
	if errors.Is(err, ebpf.ErrNotSupported) {
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

// Legacy tc filters are found again by priority and name: a stale one
// (left by a crashed sensor) is replaced, anyone else's is an error.
const (
	tcPriority = 0x4f46 // "OF"
	tcHandle   = 1
)

var tcNames = map[uint32]string{
	netlink.HANDLE_MIN_INGRESS: "outflow_ingress",
	netlink.HANDLE_MIN_EGRESS:  "outflow_egress",
}

func (o *Objects) attachTC(iface *net.Interface) (io.Closer, error) {
	// The handle's sockets stay in this network namespace, so Close
	// works from any thread.
	nl, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("attach tc to %s: netlink: %w", iface.Name, err)
	}
	qdisc := &netlink.GenericQdisc{
		QdiscAttrs: netlink.QdiscAttrs{
			LinkIndex: iface.Index,
			Handle:    netlink.MakeHandle(0xffff, 0),
			Parent:    netlink.HANDLE_CLSACT,
		},
		QdiscType: "clsact",
	}
	if err := nl.QdiscReplace(qdisc); err != nil {
		nl.Close()
		return nil, fmt.Errorf("attach tc to %s: add clsact qdisc: %w", iface.Name, err)
	}
	done := &tcFilters{nl: nl}
	for _, h := range []struct {
		parent uint32
		prog   *ebpf.Program
	}{{netlink.HANDLE_MIN_INGRESS, o.objs.FlowIngress}, {netlink.HANDLE_MIN_EGRESS, o.objs.FlowEgress}} {
		f := &netlink.BpfFilter{
			FilterAttrs: netlink.FilterAttrs{
				LinkIndex: iface.Index,
				Parent:    h.parent,
				Handle:    tcHandle,
				Priority:  tcPriority,
				Protocol:  unix.ETH_P_ALL,
			},
			Fd:           h.prog.FD(),
			Name:         tcNames[h.parent],
			DirectAction: true,
		}
		if err := checkTCSlot(nl, iface, h.parent); err != nil {
			done.Close()
			return nil, err
		}
		if err := nl.FilterReplace(f); err != nil {
			done.Close()
			return nil, fmt.Errorf("attach tc to %s: add bpf filter: %w", iface.Name, err)
		}
		done.fs = append(done.fs, f)
	}
	return done, nil
}

// checkTCSlot refuses to replace a filter at Outflow's priority that is
// not Outflow's.
func checkTCSlot(nl *netlink.Handle, iface *net.Interface, parent uint32) error {
	l, err := nl.LinkByIndex(iface.Index)
	if err != nil {
		return fmt.Errorf("attach tc to %s: %w", iface.Name, err)
	}
	fs, err := nl.FilterList(l, parent)
	if err != nil {
		return fmt.Errorf("attach tc to %s: list filters: %w", iface.Name, err)
	}
	for _, f := range fs {
		a := f.Attrs()
		if a.Priority != tcPriority || a.Handle != tcHandle {
			continue
		}
		if bf, ok := f.(*netlink.BpfFilter); !ok || bf.Name != tcNames[parent] {
			return fmt.Errorf("attach tc to %s: another filter holds priority %#x handle %d", iface.Name, tcPriority, tcHandle)
		}
	}
	return nil
}

type tcFilters struct {
	nl *netlink.Handle
	fs []*netlink.BpfFilter
}

func (t *tcFilters) Close() error {
	var errs []error
	for _, f := range t.fs {
		if err := t.nl.FilterDel(f); err != nil {
			errs = append(errs, fmt.Errorf("remove tc filter %s: %w", f.Name, err))
		}
	}
	t.fs = nil
	t.nl.Close()
	return errors.Join(errs...)
}

// TCFilters lists Outflow's legacy tc filters on the interface (ingress
// and egress), for tests and for checking a host after a crash.
func TCFilters(ifname string) ([]string, error) {
	l, err := netlink.LinkByName(ifname)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, parent := range []uint32{netlink.HANDLE_MIN_INGRESS, netlink.HANDLE_MIN_EGRESS} {
		fs, err := netlink.FilterList(l, parent)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			if bf, ok := f.(*netlink.BpfFilter); ok && bf.Name == tcNames[parent] {
				names = append(names, bf.Name)
			}
		}
	}
	return names, nil
}

// TCXPrograms counts the programs attached with TCX to the interface's
// ingress and egress (Outflow's and anyone else's), for tests and for
// checking a host after a crash.
func TCXPrograms(ifname string) (int, error) {
	iface, err := net.InterfaceByName(ifname)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range []ebpf.AttachType{ebpf.AttachTCXIngress, ebpf.AttachTCXEgress} {
		res, err := link.QueryPrograms(link.QueryOptions{Target: iface.Index, Attach: a})
		if err != nil {
			return 0, fmt.Errorf("query TCX programs on %s: %w", ifname, err)
		}
		n += len(res.Programs)
	}
	return n, nil
}
