/**
 * iDDS's enums as they travel in JSON. idds-client encodes an enum member (such as
 * `RequestType.HyperParameterOpt`) with idds.common.utils.json_dumps as
 * `{"class": "RequestType", "module": "idds.common.constants", "attributes": {"_value_": 4,
 * "_name_": "HyperParameterOpt", "_sort_order_": 4}}`, and decodes that form back into the member.
 * Pure.
 */
import { describe, isRecord } from "../generators/canonical.ts";
import { IddsConversionError } from "./fields.ts";

/** IddsEnum is an iDDS enum member in its JSON form. */
export interface IddsEnum {
  class: string;
  module: string;
  attributes: { _value_: number; _name_: string; _sort_order_: number };
}

/**
 * iddsEnum is the JSON form of member name of iDDS enum cls (of idds.common.constants), whose
 * value is value and whose place in the enum's definition is sortOrder (from 0).
 */
export function iddsEnum(cls: string, name: string, value: number, sortOrder = value): IddsEnum {
  return {
    class: cls,
    module: "idds.common.constants",
    attributes: { _value_: value, _name_: name, _sort_order_: sortOrder },
  };
}

/** RequestTypes are iDDS's request types (idds.common.constants.RequestType), by value. */
export const RequestTypes: Record<number, string> = {
  0: "Workflow",
  1: "EventStreaming",
  2: "StageIn",
  3: "ActiveLearning",
  4: "HyperParameterOpt",
  5: "Derivation",
  6: "iWorkflow",
  7: "iWorkflowLocal",
  8: "GenericWorkflow",
  9: "WorkData",
  99: "Other",
};

/** HyperParameterOpt is the value of RequestType.HyperParameterOpt. */
export const HyperParameterOpt = 4;

/**
 * requestTypeOf reads request_type in any form a client sends it (the JSON enum form, the number
 * 4, or the name "HyperParameterOpt") and returns its value; absent means HyperParameterOpt.
 */
export function requestTypeOf(v: unknown): number {
  if (v === undefined || v === null) return HyperParameterOpt;
  let value: unknown = v;
  if (isRecord(v) && isRecord(v.attributes)) value = v.attributes._value_ ?? v.attributes._name_;
  if (typeof value === "string") {
    const text = value.toLowerCase();
    const byName = Object.entries(RequestTypes).find(([, n]) => n.toLowerCase() === text);
    value = byName ? Number(byName[0]) : /^\d+$/.test(text) ? Number(text) : value;
  }
  if (typeof value !== "number" || RequestTypes[value] === undefined) {
    throw new IddsConversionError(
      "request_type",
      `${describe(v)} is not an iDDS request type; use RequestType.HyperParameterOpt (4)`,
    );
  }
  return value;
}
