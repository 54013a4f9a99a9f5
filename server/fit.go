package server

import (
	"strconv"

	"github.com/ndshm/ndshm"
)

// Every block's description must fit in one message, whatever its dtype:
// one legal block with a structured dtype of thousands of fields, which
// any user can make, must not break the list for every client.
const (
	// listRoom is the most one block of a list may take: a part holding
	// it alone, and the comma after it.
	listRoom = maxMessage - len(`{"ok":true,"blocks":[],"more":true}`) - 1
	// blockRoom is the most the block of a stat, create, anon or get
	// reply may take.
	blockRoom = maxMessage - len(`{"ok":true,"block":}`)
	// maxUsersShown bounds the users of a shortened description.
	maxUsersShown = 1000
)

// shorten returns info, or if its description is longer than room bytes,
// a copy marked Truncated whose dtype is an opaque void of the same
// element size (the block's header still holds the real one) and whose
// users are cut to maxUsersShown.
func shorten(info ndshm.Info, room int) ndshm.Info {
	if b, err := encode(info); err == nil && len(b) <= room {
		return info
	}
	info.Truncated = true
	if void, err := ndshm.ParseDType("|V" + strconv.Itoa(info.Spec.DType.Size())); err == nil {
		info.Spec.DType = void
	}
	if b, err := encode(info); err == nil && len(b) <= room {
		return info
	}
	info.Users = info.Users[:min(len(info.Users), maxUsersShown)]
	return info
}
