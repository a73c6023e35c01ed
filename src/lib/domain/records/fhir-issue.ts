/** A problem found in FHIR input: shared by the JSON shape checks and the R4 rules, below both. */
export interface FhirIssue {
	/** JSON path of the offending element, e.g. `$.entry[3].resource.valueQuantity.unit`. */
	readonly path: string;
	readonly message: string;
}
