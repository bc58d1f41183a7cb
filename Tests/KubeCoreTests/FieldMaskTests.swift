import Testing
import KubeCore

@Suite struct FieldMaskTests {
    let pod: JSONValue = [
        "metadata": ["name": "p", "annotations": ["gantry.dev/attempt": "1", "big/config": "xxxx"], "managedFields": [["manager": "k"]]],
        "spec": ["nodeName": "n1", "containers": [["name": "c", "image": "i"]]],
        "status": ["conditions": [["type": "Ready", "status": "True", "lastProbeTime": "t"], ["type": "Initialized", "status": "True"]]],
    ]

    @Test func keepsDeclaredKeysPrefixesAndFilteredElementsOnly() {
        let mask: FieldMask = .object(keys: [
            "metadata": .object(keys: ["name": .all, "annotations": .object(keys: [:], prefixes: ["gantry.dev/": .all])]),
            "spec": .keys("nodeName"),
            "status": .object(keys: ["conditions": .elements(.keys("type", "status"), filterKey: "type", values: ["Ready"])]),
        ])
        let kept = mask.project(pod)
        #expect(kept == [
            "metadata": ["name": "p", "annotations": ["gantry.dev/attempt": "1"]],
            "spec": ["nodeName": "n1"],
            "status": ["conditions": [["type": "Ready", "status": "True"]]],
        ])
    }

    @Test func theUnionKeepsWhatEitherReaderReads() {
        let a: FieldMask = .object(keys: ["status": .object(keys: ["conditions": .elements(.keys("type", "status"), filterKey: "type", values: ["Ready"])])])
        let b: FieldMask = .object(keys: ["status": .object(keys: ["conditions": .elements(.keys("type", "status"), filterKey: "type", values: ["Initialized"])])])
        let both = a.union(b).project(pod)
        #expect(both[path: "status", "conditions"]?.arrayValue?.count == 2)
        #expect(a.union(.all) == .all)
        // A reader that keeps every element widens a filtered one.
        let every: FieldMask = .object(keys: ["status": .object(keys: ["conditions": .elements(.keys("type"))])])
        #expect(a.union(every).project(pod)[path: "status", "conditions"] == [["type": "Ready", "status": "True"], ["type": "Initialized", "status": "True"]])
    }

    @Test func containsIsSubsetForObjectsAndExactLengthForLists() {
        let observed: JSONValue = ["spec": ["ports": [["port": 80, "protocol": "TCP", "targetPort": 80]], "clusterIP": "10.0.0.1"]]
        #expect(observed.contains(["spec": ["ports": [["port": 80]]]]))
        #expect(!observed.contains(["spec": ["ports": [["port": 81]]]]))
        #expect(!observed.contains(["spec": ["ports": [["port": 80], ["port": 81]]]]))
        #expect(observed.contains(["spec": ["ports": [["port": .double(80)]]]]))  // 80 and 80.0 are one quantity
        #expect(observed.contains(["spec": ["absent": .null]]))
        #expect(!observed.contains(["spec": ["clusterIP": .null]]))
    }
}
