/// Reports bundled into the binary so `testbridge demo` needs no files and no account.
enum DemoSamples {
  /// A real pytest 9 report (`--junitxml`, xunit2) of a small checkout suite.
  static let pytestReport = #"""
<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="2" skipped="1" tests="8" time="0.032" timestamp="2026-12-03T18:27:31.513342+00:00" hostname="vm"><testcase classname="tests.test_checkout" name="test_cart_total" time="0.000"><properties><property name="jira" value="SHOP-101" /></properties><system-out>--------------------------------- Captured Out ---------------------------------

</system-out></testcase><testcase classname="tests.test_checkout" name="test_discount_applies" time="0.000"><properties><property name="jira" value="SHOP-102" /><property name="test_id" value="@T5e6f7a8b" /></properties><failure message="AssertionError: discount should be 10%&#10;assert (100 * 0.9) == 91">record_property = &lt;function record_property.&lt;locals&gt;.append_property at 0x7f8523173b00&gt;

    def test_discount_applies(record_property):
        record_property("jira", "SHOP-102")
        record_property("test_id", "@T5e6f7a8b")
        price = 100
&gt;       assert price * 0.9 == 91, "discount should be 10%"
E       AssertionError: discount should be 10%
E       assert (100 * 0.9) == 91

tests/test_checkout.py:12: AssertionError</failure><system-out>--------------------------------- Captured Out ---------------------------------

</system-out></testcase><testcase classname="tests.test_checkout" name="test_payment_gateway" time="0.000"><skipped type="pytest.skip" message="payment sandbox is down">tests/test_checkout.py:14: payment sandbox is down</skipped><system-out>--------------------------------- Captured Out ---------------------------------

</system-out><system-out>--------------------------------- Captured Out ---------------------------------

</system-out></testcase><testcase classname="tests.test_checkout" name="test_shipping_cost_SHOP_103" time="0.000"><system-out>--------------------------------- Captured Out ---------------------------------
tid://@T9c0d1e2f

</system-out></testcase><testcase classname="tests.test_checkout" name="test_vat[DE]" time="0.000"><system-out>--------------------------------- Captured Out ---------------------------------

</system-out></testcase><testcase classname="tests.test_checkout" name="test_vat[FR]" time="0.000"><system-out>--------------------------------- Captured Out ---------------------------------

</system-out></testcase><testcase classname="tests.test_checkout" name="test_inventory_service" time="0.000"><failure message="ConnectionError: inventory service unreachable">def test_inventory_service():
&gt;       raise ConnectionError("inventory service unreachable")
E       ConnectionError: inventory service unreachable

tests/test_checkout.py:27: ConnectionError</failure><system-out>--------------------------------- Captured Out ---------------------------------

</system-out></testcase><testcase classname="tests.test_checkout" name="test_uses_broken_fixture" time="0.000"><error message="failed on setup with &quot;RuntimeError: fixture setup failed&quot;">@pytest.fixture
    def broken():
&gt;       raise RuntimeError("fixture setup failed")
E       RuntimeError: fixture setup failed

tests/conftest.py:4: RuntimeError</error><system-out>--------------------------------- Captured Out ---------------------------------

</system-out></testcase></testsuite></testsuites>
"""#
}
