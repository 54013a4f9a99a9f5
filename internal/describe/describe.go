// Package describe shows blocks and rings as ndshm's commands print
// them: the JSON object of a block (docs/JSON.md's vocabulary, which the
// server protocol's block objects share) and the human forms of inspect,
// ls, top and ring stat.
package describe

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/human"
	"github.com/ndshm/ndshm/ring"
)

// Block is how the commands describe a block in JSON, one object per
// block: ndshm.Info's JSON (the server protocol's block objects too),
// decoded into plain fields for the human outputs. Keys follow docs/JSON.md:
// byte quantities end in _bytes, element counts are count.
type Block struct {
	Name          string  `json:"name"`
	Kind          string  `json:"kind"` // array, ring, or raw for a block read with --dtype/--shape
	DType         string  `json:"dtype"`
	Shape         []int   `json:"shape"`
	Order         string  `json:"order"`      // C or F
	Count         int     `json:"count"`      // elements
	SizeBytes     int     `json:"size_bytes"` // data bytes
	DataOffset    int64   `json:"data_offset"`
	FileSizeBytes int64   `json:"file_size_bytes"`
	Persistent    bool    `json:"persistent"`
	Anonymous     bool    `json:"anonymous"`
	HugePages     bool    `json:"huge_pages"`  // its data is mapped with huge pages
	CreatorPID    int     `json:"creator_pid"` // 0 for a raw block
	CreatorAlive  bool    `json:"creator_alive"`
	Orphan        bool    `json:"orphan"`  // owned, creator dead: only gc removes it
	Created       *string `json:"created"` // RFC 3339, null for a raw block, which records none
	Users         []int   `json:"users"`   // pids that map it or hold it open
}

// Of turns what the library says of a block into a Block by way
// of Info's own JSON, so that the CLI and the server describe blocks
// alike.
func Of(info ndshm.Info) Block {
	var j Block
	// Info always encodes, and its encoding always decodes into Block.
	b, _ := json.Marshal(info)
	json.Unmarshal(b, &j)
	return j
}

// WriteBlock prints a block as inspect does: aligned "key: value" lines,
// in the order and with the names of the JSON keys.
func WriteBlock(w io.Writer, j Block) error {
	created := "-"
	if j.Created != nil {
		created = *j.Created
	}
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	for _, kv := range [][2]string{
		{"name", j.Name}, {"kind", j.Kind}, {"dtype", j.DType},
		{"shape", human.Shape(j.Shape)}, {"order", j.Order},
		{"count", strconv.Itoa(j.Count)},
		{"size_bytes", fmt.Sprintf("%d (%s)", j.SizeBytes, human.Bytes(int64(j.SizeBytes)))},
		{"data_offset", strconv.FormatInt(j.DataOffset, 10)},
		{"file_size_bytes", fmt.Sprintf("%d (%s)", j.FileSizeBytes, human.Bytes(j.FileSizeBytes))},
		{"persistent", strconv.FormatBool(j.Persistent)},
		{"anonymous", strconv.FormatBool(j.Anonymous)},
		{"huge_pages", strconv.FormatBool(j.HugePages)},
		{"creator_pid", strconv.Itoa(j.CreatorPID)},
		{"creator_alive", strconv.FormatBool(j.CreatorAlive)},
		{"orphan", strconv.FormatBool(j.Orphan)},
		{"created", created},
		{"users", PIDs(j.Users)},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
	}
	return tw.Flush()
}

// WriteJSON prints v as the commands print JSON: indented, with "<"
// and ">" as they are.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // dtypes are "<f8", not "\u003cf8"
	return enc.Encode(v)
}

// WriteList prints the blocks as ls does: as JSON, an array of Block
// objects ([] for none), or as a table, with ages as of now.
func WriteList(w io.Writer, infos []ndshm.Info, asJSON bool, now time.Time) error {
	if asJSON {
		js := make([]Block, 0, len(infos)) // [] rather than null for none
		for _, info := range infos {
			js = append(js, Of(info))
		}
		return WriteJSON(w, js)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tDTYPE\tSHAPE\tSIZE\tHUGE\tPERSISTENT\tPID\tALIVE\tORPHAN\tUSERS\tAGE")
	for _, info := range infos {
		j := Of(info)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n",
			j.Name, j.Kind, j.DType, human.Shape(j.Shape), human.Bytes(int64(j.SizeBytes)), yesNo(j.HugePages),
			yesNo(j.Persistent), j.CreatorPID, yesNo(j.CreatorAlive), yesNo(j.Orphan), PIDs(j.Users),
			humanAge(now.Sub(info.Created)))
	}
	return tw.Flush()
}

// WriteUsers prints the blocks as a table of their users, as top shows
// them: NAME, KIND, DTYPE, SHAPE, SIZE, PID (the creator), ALIVE and
// USERS.
func WriteUsers(w io.Writer, infos []ndshm.Info) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tDTYPE\tSHAPE\tSIZE\tPID\tALIVE\tUSERS")
	for _, info := range infos {
		j := Of(info)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", j.Name, j.Kind, j.DType, human.Shape(j.Shape),
			human.Bytes(int64(j.SizeBytes)), j.CreatorPID, yesNo(j.CreatorAlive), PIDs(j.Users))
	}
	return tw.Flush()
}

// WriteRing prints a ring's state as ring stat and top show it: a line
// for the ring, one for its writer, and a table of its readers.
func WriteRing(w io.Writer, st ring.Stat) error {
	fmt.Fprintf(w, "ring %s: %s, %s, %d slots of %s\n", st.Name, st.Mode, st.Policy, st.Slots, human.Bytes(int64(st.FrameBytes)))
	fmt.Fprintf(w, "writer: %s", st.Writer)
	if st.WriterPID != 0 {
		fmt.Fprintf(w, " (pid %d)", st.WriterPID)
	}
	if st.Stream != 0 { // one stream per writer; frames are numbered across them
		fmt.Fprintf(w, ", stream %d", st.Stream)
	}
	fmt.Fprintf(w, ", %d frames published", st.Head)
	if st.Mode == ring.Queue.String() {
		fmt.Fprintf(w, ", next to claim %d", st.QueueNext)
	}
	fmt.Fprintln(w)
	if len(st.Readers) == 0 {
		_, err := fmt.Fprintln(w, "no readers subscribed")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "place\tpid\talive\tnext\tlag\tholding\tmissed\treceived\t")
	for _, rs := range st.Readers {
		holding := "-"
		if rs.Holding >= 0 {
			holding = fmt.Sprint(rs.Holding)
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%d\t%d\t%s\t%d\t%d\t\n", rs.Place, rs.PID, yesNo(rs.Alive),
			rs.Next, rs.Lag, holding, rs.Missed, rs.Received)
	}
	return tw.Flush()
}

// humanAge writes a duration as ls shows ages: 42s, 5m, 3h, 12d.
func humanAge(d time.Duration) string {
	switch {
	case d < 0:
		return "0s" // a clock step back, or a creator in the future
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// yesNo is how the human listings show a bool.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// PIDs is how the human outputs show users: "-" for none, else "12,345".
func PIDs(ps []int) string {
	if len(ps) == 0 {
		return "-"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ",")
}
