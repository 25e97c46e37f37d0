package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/startline/startline/internal/textin"
	"github.com/startline/startline/lottery"
)

// JSON bodies are checked here, by decodeJSON, the one place they are
// decoded; the rest of the request passed the edge (httpkit.CheckInput).

// checkDecoded walks a decoded JSON body (v is a pointer to the body
// struct) and refuses a string field that is not text, naming it by its
// JSON path ("courses[0].name"). Free-form JSON (json.RawMessage: the
// client's signals) is re-encoded so the database takes it, or refused.
func checkDecoded(v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil
	}
	return walkDecoded(rv.Elem(), "")
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

func walkDecoded(v reflect.Value, path string) error {
	if v.Type() == rawMessageType {
		if v.Len() == 0 || string(v.Bytes()) == "null" {
			return nil
		}
		clean, err := textin.CleanJSON(v.Bytes())
		if err != nil {
			return lottery.Fieldf(path, "send a JSON object of plain values")
		}
		switch {
		case v.CanSet():
			v.SetBytes(clean)
		case string(clean) != string(v.Bytes()):
			return lottery.Fieldf(path, "send a JSON object of plain values") // cannot replace it: refuse
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return walkDecoded(v.Elem(), path)
		}
	case reflect.String:
		if textin.Check(v.String()) != nil {
			return lottery.Fieldf(path, "use text: UTF-8 without control characters")
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := walkDecoded(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			k := fmt.Sprint(it.Key().Interface())
			if textin.Check(k) != nil {
				return lottery.Fieldf(path, "use text: UTF-8 without control characters")
			}
			if err := walkDecoded(it.Value(), joinPath(path, k)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if f.Anonymous && f.Tag.Get("json") == "" {
				name = "" // embedded: its fields sit at this level
			}
			if err := walkDecoded(v.Field(i), joinPath(path, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinPath(path, name string) string {
	switch {
	case path == "":
		return name
	case name == "":
		return path
	}
	return path + "." + name
}
