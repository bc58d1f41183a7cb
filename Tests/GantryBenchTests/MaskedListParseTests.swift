import Testing
import GantryBench
import GantryControllers
import KubeCore

/// The informers' real field masks on realistic Pods (PodFixture, with managedFields): a list parsed with the
/// mask equals the list parsed whole and projected, item for item.
@Suite struct MaskedListParseTests {
    @Test func theOperatorsPodMasksAgreeWithProjectingTheParsedList() throws {
        let bytes = PodFixture.podListBytes(count: 40)
        let masks: [FieldMask] = [TrainingJobWatches.podFields, NotebookPlanner.podFields, InferenceServicePlanner.podFields,
                                  TrainingJobWatches.configMapFields, TrainingJobWatches.nodeFields,
                                  TrainingJobWatches.podFields.union(NotebookPlanner.podFields).union(InferenceServicePlanner.podFields)]
        let whole = try JSONValue.parse(bytes, droppingManagedFields: true)
        let items = try #require(whole["items"]?.arrayValue)
        for mask in masks {
            let masked = try JSONValue.parseList(bytes, itemMask: mask, droppingManagedFields: true)
            #expect(masked["items"]?.arrayValue == items.map(mask.project), "\(mask)")
            #expect(masked["metadata"] == whole["metadata"])
        }
    }
}
