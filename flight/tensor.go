package flight

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// TensorName is the name of Arrow's canonical fixed-shape tensor
// extension type, which arrow-go v18.9.0 does not provide.
const TensorName = "arrow.fixed_shape_tensor"

// A TensorType is Arrow's canonical fixed_shape_tensor extension type:
// each value is one C-order tensor of Shape, stored as a
// FixedSizeList<Elem>[prod(Shape)]. ndshm writes only "shape" in its
// serialized metadata (no dim_names, no permutation); it reads the other
// keys but ignores them. TensorTypes are immutable and safe to share.
type TensorType struct {
	arrow.ExtensionBase
	Shape []int
}

// NewTensorType returns the tensor type of shape with elements of type elem.
func NewTensorType(elem arrow.DataType, shape []int) *TensorType {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &TensorType{
		ExtensionBase: arrow.ExtensionBase{Storage: arrow.FixedSizeListOfNonNullable(int32(n), elem)},
		Shape:         append([]int{}, shape...),
	}
}

// Elem returns the element type of the tensors.
func (t *TensorType) Elem() arrow.DataType {
	return t.Storage.(*arrow.FixedSizeListType).Elem()
}

// ArrayType implements arrow.ExtensionType.
func (t *TensorType) ArrayType() reflect.Type { return reflect.TypeOf(TensorArray{}) }

// ExtensionName implements arrow.ExtensionType.
func (t *TensorType) ExtensionName() string { return TensorName }

// String implements fmt.Stringer.
func (t *TensorType) String() string {
	return fmt.Sprintf("extension<%s[value_type=%s, shape=%v]>", TensorName, t.Elem(), t.Shape)
}

// tensorMeta is the canonical serialized metadata.
type tensorMeta struct {
	Shape       []int    `json:"shape"`
	DimNames    []string `json:"dim_names,omitempty"`
	Permutation []int    `json:"permutation,omitempty"`
}

// Serialize implements arrow.ExtensionType: {"shape":[...]}.
func (t *TensorType) Serialize() string {
	b, _ := json.Marshal(tensorMeta{Shape: t.shapeOrEmpty()})
	return string(b)
}

func (t *TensorType) shapeOrEmpty() []int {
	if t.Shape == nil {
		return []int{}
	}
	return t.Shape
}

// Deserialize implements arrow.ExtensionType. The storage must be a
// fixed-size list whose size is the product of the shape.
func (t *TensorType) Deserialize(storage arrow.DataType, data string) (arrow.ExtensionType, error) {
	var m tensorMeta
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		return nil, fmt.Errorf("%s metadata %q: %w", TensorName, data, err)
	}
	fsl, ok := storage.(*arrow.FixedSizeListType)
	if !ok {
		return nil, fmt.Errorf("%s storage is %s, not a fixed-size list", TensorName, storage)
	}
	n := 1
	for _, d := range m.Shape {
		if d < 0 {
			return nil, fmt.Errorf("%s shape %v has a negative dimension", TensorName, m.Shape)
		}
		n *= d
	}
	if int64(n) != int64(fsl.Len()) {
		return nil, fmt.Errorf("%s shape %v does not hold %d elements", TensorName, m.Shape, fsl.Len())
	}
	return &TensorType{ExtensionBase: arrow.ExtensionBase{Storage: fsl}, Shape: m.Shape}, nil
}

// ExtensionEquals implements arrow.ExtensionType.
func (t *TensorType) ExtensionEquals(o arrow.ExtensionType) bool {
	u, ok := o.(*TensorType)
	return ok && arrow.TypeEqual(t.Storage, u.Storage) && reflect.DeepEqual(t.shapeOrEmpty(), u.shapeOrEmpty())
}

// A TensorArray is an array of TensorType values.
type TensorArray struct {
	array.ExtensionArrayBase
}

func init() {
	// Another package may register its own implementation first: then
	// readers get that one, which describes the same bytes.
	_ = arrow.RegisterExtensionType(&TensorType{ExtensionBase: arrow.ExtensionBase{Storage: arrow.FixedSizeListOf(0, arrow.PrimitiveTypes.Uint8)}})
}
