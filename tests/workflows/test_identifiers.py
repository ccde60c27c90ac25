"""Credit codes, ID numbers, masking, company names, money and dates."""

import random
from datetime import date, datetime
from decimal import Decimal

import pytest
from stdnum.cn import ric, uscc

from workflows.identifiers import (
    USCC_ALPHABET,
    mask_id,
    normalise_name,
    normalise_uscc,
    parse_date,
    parse_money,
    resident_id_problem,
    uscc_check_char,
    uscc_problem,
)


def complete(first17: str) -> str:
    """A valid code from its first 17 characters."""
    return first17 + uscc_check_char(first17)


# --- unified social credit code -----------------------------------------------------------------


def test_uscc_check_char_of_a_published_code_is_l():
    assert uscc_check_char("91110000600037341") == "L"
    assert uscc_problem("91110000600037341L") is None


@pytest.mark.parametrize(
    "first17",
    [
        "91310115MA1K3ABC0",  # 9: market regulator, enterprise
        "12100000400000012",  # 1: institution registrar
        "A1110108MA01ABCD2",  # A: allowed by GB 32100, rejected by stdnum
        "N2330100MA2B3C4D5",  # N: agriculture registrar
        "Y1440300MA5E6F7G8",  # Y: other registrars
        "53100000500021676",  # 5: civil affairs
    ],
)
def test_uscc_with_computed_check_char_is_valid_for_every_registrar(first17):
    assert uscc_problem(complete(first17)) is None


def test_uscc_accepts_lowercase_spaces_and_full_width_characters():
    assert uscc_problem(" 9111 0000 6000 3734 1l ") is None
    assert uscc_problem("９１１１００００６０００３７３４１Ｌ") is None
    assert normalise_uscc(" 9111 0000\u30006000 3734 1l ") == "91110000600037341L"


def test_uscc_check_char_agrees_with_stdnum_for_codes_starting_with_a_digit():
    rng = random.Random(4754)
    for _ in range(500):
        body = (
            rng.choice("123456789")
            + rng.choice(USCC_ALPHABET)
            + "".join(rng.choice("0123456789") for _ in range(6))
            + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
        )
        assert uscc_check_char(body) == uscc.calc_check_digit(body), body
        if body[:8].isdigit():  # stdnum's own pattern wants 8 leading digits
            assert uscc.is_valid(complete(body))


def test_uscc_check_char_rejects_a_body_that_is_not_17_allowed_characters():
    with pytest.raises(ValueError):
        uscc_check_char("9111000060003734")
    with pytest.raises(ValueError):
        uscc_check_char("9111000060003734O")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("", "统一社会信用代码不能为空"),
        ("   ", "统一社会信用代码不能为空"),
        ("9111000060003734", "统一社会信用代码应为18位，实际为16位"),
        ("91110000600037341LX", "统一社会信用代码应为18位，实际为19位"),
        ("91110000-60003734L", "统一社会信用代码含有非法字符“-”"),
        ("91110000公司0037341L", "统一社会信用代码含有非法字符“公”"),
        ("01110000600037341L", "第1位（登记管理部门代码）应为1-9、A、N或Y，实际为“0”"),
        ("B1110000600037341L", "第1位（登记管理部门代码）应为1-9、A、N或Y，实际为“B”"),
        ("9O110000600037341L", "第2位（机构类别代码）不能为“O”"),
        ("91A10000600037341L", "第3-8位（登记管理机关行政区划码）应为数字，第3位为“A”"),
        ("9111000M600037341L", "第3-8位（登记管理机关行政区划码）应为数字，第8位为“M”"),
        ("91110000I00037341L", "第9位含有不允许的字母“I”"),
        ("9111000060003734ZL", "第17位含有不允许的字母“Z”"),
        ("91110000600037341S", "第18位含有不允许的字母“S”"),
        ("91110000600037341A", "统一社会信用代码校验位错误，请核对是否有输错的字符"),
    ],
)
def test_uscc_problem_says_exactly_what_is_wrong(code, expected):
    problem = uscc_problem(code)
    assert problem is not None
    assert expected in problem


def test_uscc_problem_is_one_sentence():
    problem = uscc_problem("91110000600037341A")
    assert problem is not None
    assert problem.count("。") == 0 and "\n" not in problem


# --- resident identity card number --------------------------------------------------------------

GB11643_EXAMPLE = "11010519491231002X"  # the example number printed in GB 11643


def with_check_digit(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


@pytest.mark.parametrize(
    "number", [GB11643_EXAMPLE, "11010519491231002x", " 360426199101010071 ", "360426199101010071"]
)
def test_valid_resident_id_numbers_pass_including_lowercase_x(number):
    assert resident_id_problem(number) is None


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("", "身份证号码不能为空"),
        ("110105194912310", "身份证号码应为18位，实际为15位"),
        ("11010519491231002Y", "前17位应为数字，最后一位应为数字或X"),
        ("1101051949A231002X", "前17位应为数字，最后一位应为数字或X"),
        ("110105194902300010", "出生日期“19490230”不存在"),
        ("110105194913010010", "出生日期“19491301”不存在"),
        ("110105194912310021", "身份证号码校验位错误，请核对是否有输错的数字"),
        (with_check_digit("99010519491231002"), "省级地区码“99”不存在"),
    ],
)
def test_resident_id_problem_names_the_failure(number, expected):
    problem = resident_id_problem(number)
    assert problem is not None
    assert expected in problem


def test_resident_id_from_a_county_newer_than_stdnums_table_is_accepted():
    """320505 (虎丘区, 2012) is missing from python-stdnum's table; ID numbers from it are real."""
    assert resident_id_problem(with_check_digit("32050519800101123")) is None


def test_resident_id_born_after_today_is_rejected():
    number = with_check_digit("11010520300101001")
    assert "晚于今天" in resident_id_problem(number, today=date(2026, 1, 1))


# --- masking ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (GB11643_EXAMPLE, "110105********002X"),
        ("6222021234567890123", "622202*********0123"),
        ("91310115MA1K3ABC0D", "913101********BC0D"),
        ("12345678901", "123456*8901"),
        ("1234567890", "********90"),
        ("abc", "*bc"),
        ("ab", "**"),
        ("", ""),
    ],
)
def test_mask_id_keeps_first_six_and_last_four_or_last_two_when_short(value, masked):
    assert mask_id(value) == masked


# --- company names ------------------------------------------------------------------------------


def test_normalise_name_matches_names_written_with_different_brackets_and_spaces():
    assert normalise_name("上海 某某（集团）有限公司") == normalise_name("上海某某(集团)有限公司")
    assert normalise_name("上海某某（集团）有限公司") == "上海某某(集团)有限公司"


def test_normalise_name_folds_full_width_and_ascii_case_and_all_whitespace():
    assert normalise_name("ＡＢＣ\u3000科技\t有限公司\n") == "abc科技有限公司"
    assert normalise_name("Shanghai ABC Co., Ltd.") == "shanghaiabcco.,ltd."


# --- money --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1,234.50", "1234.50"),
        ("¥1,000", "1000.00"),
        ("￥1,000.5", "1000.50"),
        ("  100  ", "100.00"),
        ("1，234.50", "1234.50"),
        ("1,234,567.89", "1234567.89"),
        ("-1,234.56", "-1234.56"),
        ("-¥5", "-5.00"),
        ("¥-5", "-5.00"),
        ("+7", "7.00"),
        ("１２３.４", "123.40"),
        ("100元", "100.00"),
        ("0", "0.00"),
        ("1.230", "1.23"),
        ("99999999999999.99", "99999999999999.99"),
    ],
)
def test_parse_money_accepts_what_people_and_banks_write(text, amount):
    result = parse_money(text)
    assert isinstance(result, Decimal)
    assert result == Decimal(amount)
    assert str(result) == amount


@pytest.mark.parametrize("text", ["1.234", "0.125", "1,000.001"])
def test_parse_money_rejects_more_than_two_decimals(text):
    with pytest.raises(ValueError, match="金额最多两位小数"):
        parse_money(text)


@pytest.mark.parametrize(
    "text",
    [
        "abc",
        "NaN",
        "nan",
        "inf",
        "-Infinity",
        "1e5",
        "1,23",
        "12,34,567",
        "1.2.3",
        "--5",
        "¥",
        "5-",
        "1 000",
    ],
)
def test_parse_money_rejects_what_is_not_a_plain_number(text):
    with pytest.raises(ValueError, match="不是有效的数字"):
        parse_money(text)


def test_parse_money_rejects_empty_text():
    with pytest.raises(ValueError, match="金额为空"):
        parse_money("  ")


# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-05",
        "2024/1/5",
        "2024.1.5",
        "2024-1-5",
        "20240105",
        "2024年1月5日",
        "2024年01月05日",
        "2024-01-05 13:45:10",
        "2024-01-05T13:45:10",
        "2024/1/5 13:45",
        "2024.01.05 08:00:00.000",
        "20240105 13:45:10",
        "2024年1月5日 13:45:10",
        "2024年1月5日13:45",
        " ２０２４－０１－０５ ",
        datetime(2024, 1, 5, 13, 45),
        date(2024, 1, 5),
    ],
)
def test_parse_date_reads_every_format_banks_and_excel_produce(text):
    assert parse_date(text) == date(2024, 1, 5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2024-02-30", "不存在"),
        ("2023-02-29", "不存在"),
        ("2024-13-01", "不存在"),
        ("20241301", "不存在"),
        ("2024-01-05 25:00", "时间不存在"),
        ("2024-01-05 13:61:00", "时间不存在"),
        ("0024-01-05", "年份不在"),
        ("05/01/2024", "无法识别"),
        ("2024-1/5", "无法识别"),
        ("2024-01-05 下午", "无法识别"),
        ("abc", "无法识别"),
        ("45296", "无法识别"),
        ("", "日期为空"),
    ],
)
def test_parse_date_rejects_impossible_or_unknown_dates_in_chinese(text, message):
    with pytest.raises(ValueError, match=message):
        parse_date(text)


def test_parse_date_accepts_leap_day():
    assert parse_date("2024-02-29") == date(2024, 2, 29)
